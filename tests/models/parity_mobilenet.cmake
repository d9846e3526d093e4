# MobileNet family: parity with torchvision (see tests/models/CMakeLists.txt). 32 is the smallest input whose
# last feature map is 1x1 (the registry's min_input_size); TRAIN covers BatchNorm batch statistics and dropout.
ftbench_add_parity_test(mobilenet_v2 32)
ftbench_add_parity_test(mobilenet_v2 32 TRAIN)
ftbench_add_parity_test(mobilenet_v3_small 32)
ftbench_add_parity_test(mobilenet_v3_small 32 TRAIN)
ftbench_add_parity_test(mobilenet_v3_large 32 CLASSES 10)
