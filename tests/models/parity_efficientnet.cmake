# EfficientNet family: parity with torchvision (see tests/models/CMakeLists.txt). 32 is the registry's
# min_input_size. The TRAIN case compares stochastic depth's per-sample masks and the head's dropout exactly.
ftbench_add_parity_test(efficientnet_b0 32)
ftbench_add_parity_test(efficientnet_b0 32 TRAIN)
ftbench_add_parity_test(efficientnet_b1 32)
ftbench_add_parity_test(efficientnet_b2 32 CLASSES 10)
ftbench_add_parity_test(efficientnet_b3 32)
