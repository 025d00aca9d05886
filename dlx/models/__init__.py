"""Ready-made models: ``build_model(name, input_shape, n_classes)`` and the builders."""

from dlx.models.zoo import MODELS, build_model, cnn, lenet5, logreg, mlp, resnet

__all__ = ["MODELS", "build_model", "cnn", "lenet5", "logreg", "mlp", "resnet"]
