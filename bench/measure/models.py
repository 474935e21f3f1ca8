"""The model families a suite can name: blocks of (conv|dense) -> normalizer -> activation, or the
user's own factory (``model: {factory: package.module:function}``) or saved model (``model: {file:
model.keras}``, bench/measure/saved_model.py).

``placement: after`` swaps the order to activation -> normalizer, the variant the article mentions
for some ResNets. The layer feeding a normalizer has no bias: the normalizer's beta replaces it.
"""

from __future__ import annotations

import keras

from bench.measure.layers import build_normalizer


def build_model(name: str, options: dict, input_shape: tuple, classes: int, kind: str,
                normalizer_options: dict) -> keras.Model:
    if name == "factory":
        return _user_model(options, input_shape, classes, lambda: build_normalizer(kind, normalizer_options))
    if name == "file":
        return _saved_model(options, input_shape, classes, lambda: build_normalizer(kind, normalizer_options))
    inputs = keras.Input(shape=input_shape)
    x = inputs if name == "cnn" else keras.layers.Flatten()(inputs)
    use_bias = kind == "none"
    for width in options["widths"]:
        if name == "cnn":
            x = keras.layers.Conv2D(width, 3, padding="same", use_bias=use_bias)(x)
        else:
            x = keras.layers.Dense(width, use_bias=use_bias)(x)
        norm = build_normalizer(kind, normalizer_options)
        if options["placement"] == "before":
            x = keras.layers.Activation("relu")(norm(x))
        else:
            x = norm(keras.layers.Activation("relu")(x))
    if name == "cnn":
        x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(classes, dtype="float32")(x)  # float32 logits under mixed precision
    return keras.Model(inputs, outputs, name=f"{name}_{kind}")


def _user_model(options: dict, input_shape: tuple, classes: int, normalization) -> keras.Model:
    """``function(input_shape, classes, normalization, **options)``; ``normalization()`` returns a
    fresh normalization layer of the case, so the factory decides where normalization goes."""
    from bench.suite.user_code import load_object, split_options

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
