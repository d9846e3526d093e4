# PLACEHOLDER: densenet parity cases are being written (see tests/models/CMakeLists.txt).
