# VGG family: parity with torchvision (see tests/models/CMakeLists.txt). Each model's state dict is ~500 MB,
# so one eval case per model at the minimum input (32: the adaptive pool still feeds the 25088-wide
# classifier), and one TRAIN case (BatchNorm batch statistics, two dropout masks, replaced head).
ftbench_add_parity_test(vgg11 32)
ftbench_add_parity_test(vgg11_bn 32)
ftbench_add_parity_test(vgg11_bn 32 TRAIN CLASSES 10)
ftbench_add_parity_test(vgg13 32)
ftbench_add_parity_test(vgg13_bn 32)
ftbench_add_parity_test(vgg16 32)
ftbench_add_parity_test(vgg16_bn 32)
ftbench_add_parity_test(vgg19 32)
ftbench_add_parity_test(vgg19_bn 32)
