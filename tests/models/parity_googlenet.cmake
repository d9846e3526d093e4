# PLACEHOLDER: googlenet parity cases are being written (see tests/models/CMakeLists.txt).
