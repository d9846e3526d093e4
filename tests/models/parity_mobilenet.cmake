# MobileNet family: parity with torchvision (see tests/models/CMakeLists.txt). 33 is the smallest input whose
# last feature map is 2x2 (the registry's min_input_size); TRAIN covers BatchNorm batch statistics and dropout.
ftbench_add_parity_test(mobilenet_v2 33)
ftbench_add_parity_test(mobilenet_v2 33 TRAIN)
ftbench_add_parity_test(mobilenet_v3_small 33)
ftbench_add_parity_test(mobilenet_v3_small 33 TRAIN)
ftbench_add_parity_test(mobilenet_v3_large 33 CLASSES 10)
