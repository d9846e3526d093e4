# ShuffleNet V2: parity with torchvision (see tests/models/CMakeLists.txt). 32 is the registry's
# min_input_size.
ftbench_add_parity_test(shufflenet_v2_x1_0 32)
ftbench_add_parity_test(shufflenet_v2_x1_0 32 TRAIN CLASSES 10)
