# AlexNet: parity with torchvision (see tests/models/CMakeLists.txt). 63 is its minimum input; the TRAIN case
# compares the classifier's two dropout masks under a shared seed, with a replaced 10-class head.
ftbench_add_parity_test(alexnet 63)
ftbench_add_parity_test(alexnet 63 TRAIN CLASSES 10)
