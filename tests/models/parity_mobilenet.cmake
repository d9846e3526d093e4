# PLACEHOLDER: mobilenet parity cases are being written (see tests/models/CMakeLists.txt).
