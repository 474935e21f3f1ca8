"""``model: {file: model.keras}``: a user's saved Keras model with its normalization layers swapped.

Every layer of the class named in ``replace`` (default ``BatchNormalization``) becomes a fresh
normalization layer of the case (``normalization()``); every other layer is rebuilt from its
config, so its weights are re-initialised, or keeps its trained weights with ``weights: keep``.
This is how a suite asks "what would GroupNorm do in my architecture".
"""

from __future__ import annotations

import inspect

import keras

REPLACED = "_normbench_replaced_layers"  # the count, kept on the model for the record


class SwappedNormalization(keras.layers.Layer):
    """The case's normalizer in the replaced layer's place. The saved graph calls that place with
    the old layer's arguments (BatchNormalization takes ``mask``); this passes on what the new layer
    takes and drops the rest."""

    def __init__(self, inner: keras.layers.Layer, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner
        self._inner_takes_training = "training" in inspect.signature(inner.call).parameters

    def call(self, inputs, training=None, mask=None):
        if self._inner_takes_training:
            return self.inner(inputs, training=training)
        return self.inner(inputs)


def load_with_normalizers(path: str, replace: str, weights: str, normalization) -> keras.Model:
    original = keras.saving.load_model(path, compile=False)
    replaced: list[str] = []

    def clone(layer):
        if type(layer).__name__ == replace:
            replaced.append(layer.name)
            inner = normalization()
            return SwappedNormalization(inner, name=f"{layer.name}_as_{type(inner).__name__}")
        return layer.__class__.from_config(layer.get_config())

    model = keras.models.clone_model(original, clone_function=clone)
    if not replaced:
        found = sorted({type(layer).__name__ for layer in original.layers})
        raise ValueError(f"{path} has no {replace} layer to replace (its layers: {', '.join(found)})")
    if weights == "keep":
        for layer in original.layers:
            if layer.name not in replaced and layer.weights:
                model.get_layer(layer.name).set_weights(layer.get_weights())
    setattr(model, REPLACED, len(replaced))
    return model


def replaced_layers(model) -> int | None:
    return getattr(model, REPLACED, None)
