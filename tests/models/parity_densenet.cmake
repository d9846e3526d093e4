# DenseNet family: parity with torchvision (see tests/models/CMakeLists.txt). 29 is the minimum input (the last
# dense block runs at 1x1); the TRAIN case runs every BatchNorm on batch statistics, with a replaced head.
ftbench_add_parity_test(densenet121 29)
ftbench_add_parity_test(densenet121 29 TRAIN CLASSES 10)
ftbench_add_parity_test(densenet161 29)
ftbench_add_parity_test(densenet169 29)
ftbench_add_parity_test(densenet201 29)
