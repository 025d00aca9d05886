"""Ready-made models: ``build_model(name, input_shape, n_classes)`` and the builders."""

from dlx.models.zoo import MODELS, build_model, cnn, lenet5, logreg, mlp, resnet

__all__ = ["MODELS", "build_model", "cnn", "lenet5", "logreg", "mlp", "resnet"]
from dlx.models.classic import alexnet, inception_net, vgg

MODELS.update({"vgg": vgg, "alexnet": alexnet, "inception": inception_net})
__all__ += ["alexnet", "inception_net", "vgg"]
