# ConvNeXt: parity with torchvision (see tests/models/CMakeLists.txt). 32 is the minimum input size (the last
# stage is 1x1). TRAIN draws the stochastic-depth masks from the shared seed.
ftbench_add_parity_test(convnext_tiny 32)
ftbench_add_parity_test(convnext_tiny 32 TRAIN)
ftbench_add_parity_test(convnext_tiny 32 CLASSES 10)
