# RegNet family: parity with torchvision (see tests/models/CMakeLists.txt). 32 is the minimum input size
# (the last stage is 1x1); TRAIN runs BatchNorm on batch statistics (a batch of 2).
ftbench_add_parity_test(regnet_y_400mf 32)
ftbench_add_parity_test(regnet_y_400mf 32 TRAIN)
ftbench_add_parity_test(regnet_y_800mf 32 CLASSES 10)
