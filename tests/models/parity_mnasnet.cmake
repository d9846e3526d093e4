# MnasNet: parity with torchvision (see tests/models/CMakeLists.txt). 33 is the registry's min_input_size.
ftbench_add_parity_test(mnasnet1_0 33)
ftbench_add_parity_test(mnasnet1_0 33 TRAIN CLASSES 10)
