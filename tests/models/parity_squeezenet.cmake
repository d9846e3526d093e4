# SqueezeNet 1.1: parity with torchvision (see tests/models/CMakeLists.txt). 17 is its minimum input; the
# TRAIN case compares the dropout before the replaced 1x1-convolution head.
ftbench_add_parity_test(squeezenet1_1 17)
ftbench_add_parity_test(squeezenet1_1 17 TRAIN CLASSES 10)
