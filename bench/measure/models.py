"""The model families a suite can name: blocks of (conv|dense) -> normalizer -> activation, or the
user's own factory (``model: {factory: package.module:function}``) or saved model (``model: {file:
model.keras}``, bench/measure/saved_model.py).

``placement: after`` swaps the order to activation -> normalizer, the variant the article mentions
for some ResNets. The layer feeding a normalizer has no bias: the normalizer's beta replaces it.
"""

from __future__ import annotations

import keras

from bench.measure.layers import build_normalizer
from bench.normalizers import NORMALIZERS


def build_model(name: str, options: dict, input_shape: tuple, classes: int, kind: str,
                normalizer_options: dict) -> keras.Model:
    if name == "factory":
        return _user_model(options, input_shape, classes, lambda: build_normalizer(kind, normalizer_options))
    if name == "file":
        return _saved_model(options, input_shape, classes, lambda: build_normalizer(kind, normalizer_options))
    if name in FAMILIES:
        norm = lambda: build_normalizer(kind, normalizer_options)  # noqa: E731
        return FAMILIES[name](options, input_shape, classes, norm, use_bias=NORMALIZERS[kind].keeps_bias)
    inputs = keras.Input(shape=input_shape)
    x = inputs if name == "cnn" else keras.layers.Flatten()(inputs)
    use_bias = NORMALIZERS[kind].keeps_bias
    sequence = len(input_shape) == 2  # (steps, channels), e.g. MNIST-1D: 1-D convolutions
    conv = keras.layers.Conv1D if sequence else keras.layers.Conv2D
    for width in options["widths"]:
        if name == "cnn":
            x = conv(width, 3, padding="same", use_bias=use_bias)(x)
        else:
            x = keras.layers.Dense(width, use_bias=use_bias)(x)
        norm = build_normalizer(kind, normalizer_options)
        if options["placement"] == "before":
            x = keras.layers.Activation("relu")(norm(x))
        else:
            x = norm(keras.layers.Activation("relu")(x))
    if name == "cnn":
        x = (keras.layers.GlobalAveragePooling1D() if sequence else keras.layers.GlobalAveragePooling2D())(x)
    outputs = keras.layers.Dense(classes, dtype="float32")(x)  # float32 logits under mixed precision
    return keras.Model(inputs, outputs, name=f"{name}_{kind}")


def _user_model(options: dict, input_shape: tuple, classes: int, normalization) -> keras.Model:
    """``function(input_shape, classes, normalization, **options)``; ``normalization()`` returns a
    fresh normalization layer of the case, so the factory decides where normalization goes."""
    from bench.core.user_objects import load_object
    from bench.suite.user_code import split_options

    reference, folder, user_options = split_options(options)
    model = load_object(reference, folder)(tuple(input_shape), classes, normalization, **user_options)
    if not isinstance(model, keras.Model):
        raise TypeError(f"{reference} returned {type(model).__name__}, not a Keras model")
    return model


def _saved_model(options: dict, input_shape: tuple, classes: int, normalization) -> keras.Model:
    from bench.measure.saved_model import load_with_normalizers

    model = load_with_normalizers(options["file"], options["replace"], options["weights"], normalization)
    expected_in, expected_out = tuple(model.input_shape[1:]), model.output_shape[-1]
    if expected_in != tuple(input_shape) or expected_out != classes:
        raise ValueError(f"{options['file']} takes {expected_in} and gives {expected_out} outputs; the dataset has "
                         f"examples of {tuple(input_shape)} and {classes} classes")
    return model


def resnet(options: dict, input_shape: tuple, classes: int, normalization, use_bias: bool) -> keras.Model:
    """The CIFAR ResNet of He et al. (2016, section 4.2): a 3x3 conv, three stages of n basic blocks
    (two 3x3 convs each) of width w, 2w, 4w, the second and third starting with stride 2, global
    average pooling and a dense classifier; depth = 6n + 2 (ResNet-20: n = 3). A shortcut that
    changes shape is a 1x1 convolution with its own normalizer (the paper's option B)."""
    blocks = (options["depth"] - 2) // 6
    inputs = keras.Input(shape=input_shape)

    def conv_norm(x, width, kernel=3, strides=1):
        x = keras.layers.Conv2D(width, kernel, strides=strides, padding="same", use_bias=use_bias)(x)
        return normalization()(x)

    x = keras.layers.Activation("relu")(conv_norm(inputs, options["width"]))
    for stage in range(3):
        width = options["width"] * 2 ** stage
        for block in range(blocks):
            strides = 2 if stage and not block else 1
            shortcut = x if strides == 1 and x.shape[-1] == width else conv_norm(x, width, 1, strides)
            y = keras.layers.Activation("relu")(conv_norm(x, width, strides=strides))
            x = keras.layers.Activation("relu")(keras.layers.Add()([shortcut, conv_norm(y, width)]))
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(classes, dtype="float32")(x), name="resnet")


def transformer(options: dict, input_shape: tuple, classes: int, normalization, use_bias: bool) -> keras.Model:
    """A small encoder: each image row is a token (H tokens of W x C features; a (tokens, features)
    input as it is), projected to ``width``, plus a learned position embedding, then ``blocks`` of
    attention and a 2-layer MLP (4x width), each with a residual connection and the case's
    normalizer ``pre`` (before each sublayer, the GPT-2 / pre-LN arrangement) or ``post`` (after
    each residual sum, the original Transformer); mean over tokens, dense classifier."""
    width, heads = options["width"], options["heads"]
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Reshape((input_shape[0], -1))(inputs) if len(input_shape) != 2 else inputs
    x = LearnedPositions()(keras.layers.Dense(width)(x))
    pre = options["placement"] == "pre"

    def sublayer(x, make):
        y = make(normalization()(x) if pre else x)
        x = keras.layers.Add()([x, y])
        return x if pre else normalization()(x)

    for _ in range(options["blocks"]):
        x = sublayer(x, lambda h: keras.layers.MultiHeadAttention(heads, width // heads)(h, h))
        x = sublayer(x, lambda h: keras.layers.Dense(width)(keras.layers.Dense(4 * width, activation="gelu")(h)))
    if pre:
        x = normalization()(x)  # the final normalizer of pre-LN encoders
    x = keras.layers.GlobalAveragePooling1D()(x)
    return keras.Model(inputs, keras.layers.Dense(classes, dtype="float32")(x), name="transformer")


class LearnedPositions(keras.layers.Layer):
    """Adds a learned embedding per token position (BERT's and ViT's position embedding)."""

    def build(self, input_shape):
        self.positions = self.add_weight(shape=tuple(input_shape[1:]), initializer="random_normal",
                                         name="positions")

    def call(self, x):
        return x + keras.ops.cast(self.positions, x.dtype) if hasattr(keras, "ops") else x + self.positions


FAMILIES = {"resnet": resnet, "transformer": transformer}  # catalog.MODELS lists their options
