"""The two model families a suite can name: blocks of (conv|dense) -> normalizer -> activation.

``placement: after`` swaps the order to activation -> normalizer, the variant the article mentions
for some ResNets. The layer feeding a normalizer has no bias: the normalizer's beta replaces it.
"""

from __future__ import annotations

import keras

from bench.measure.layers import build_normalizer


def build_model(name: str, options: dict, input_shape: tuple, classes: int, kind: str,
                normalizer_options: dict) -> keras.Model:
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
