# EfficientNet family: parity with torchvision (see tests/models/CMakeLists.txt). 33 is the registry's
# min_input_size. The TRAIN case compares stochastic depth's per-sample masks and the head's dropout exactly.
ftbench_add_parity_test(efficientnet_b0 33)
ftbench_add_parity_test(efficientnet_b0 33 TRAIN)
ftbench_add_parity_test(efficientnet_b1 33)
ftbench_add_parity_test(efficientnet_b2 33 CLASSES 10)
ftbench_add_parity_test(efficientnet_b3 33)
