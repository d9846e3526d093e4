# RegNet family: parity with torchvision (see tests/models/CMakeLists.txt). 33 is the minimum input size
# (the last stage is 2x2); TRAIN runs BatchNorm on batch statistics.
ftbench_add_parity_test(regnet_y_400mf 33)
ftbench_add_parity_test(regnet_y_400mf 33 TRAIN)
ftbench_add_parity_test(regnet_y_800mf 33 CLASSES 10)
