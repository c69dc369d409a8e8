"""components/promotion/signature_calls.py: TFMA's positional call of a loaded serving signature names its input,
with the same outputs, and never goes through TensorFlow's failed bind and flat-signature fallback."""
import pytest
import tensorflow as tf
from tensorflow.python.eager.polymorphic_function import concrete_function
from tensorflow_model_analysis.utils import model_util

from components.promotion import signature_calls


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """A SavedModel whose serving signature parses serialized tf.Examples, as the Trainer's does."""
    module = tf.Module()
    module.scale = tf.Variable(2.0)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve(serialized):
        parsed = tf.io.parse_example(serialized, {"x": tf.io.FixedLenFeature([], tf.float32)})
        return {"doubled": parsed["x"] * module.scale}

    path = str(tmp_path_factory.mktemp("model"))
    tf.saved_model.save(module, path, signatures={"serving_default": serve.get_concrete_function()})
    return tf.saved_model.load(path)


def batch(values):
    return tf.constant([tf.train.Example(features=tf.train.Features(feature={
        "x": tf.train.Feature(float_list=tf.train.FloatList(value=[v]))})).SerializeToString() for v in values])


@pytest.fixture
def fallbacks(monkeypatch):
    """Calls that failed to bind the structured signature and fell back to the flat one."""
    calls = []
    real = concrete_function.ConcreteFunction._call_with_flat_signature

    def recording(self, args, kwargs):
        calls.append(len(args))
        return real(self, args, kwargs)

    monkeypatch.setattr(concrete_function.ConcreteFunction, "_call_with_flat_signature", recording)
    return calls


def test_tfma_positional_call_names_the_input_and_gives_the_same_outputs(loaded, fallbacks, monkeypatch):
    monkeypatch.setattr(model_util, "get_callable", model_util.get_callable)  # restored after the test
    plain = model_util.get_callable(loaded, "serving_default")
    plain(batch([1.0, 2.0]))
    assert fallbacks == [1], "TensorFlow now binds a positional call to a loaded signature: signature_calls may be obsolete"

    fallbacks.clear()
    signature_calls.install()
    signature_calls.install()  # idempotent
    wrapped = model_util.get_callable(loaded, "serving_default")
    assert isinstance(wrapped, signature_calls.NamedInputCall)
    assert wrapped(batch([1.0, 2.5]))["doubled"].numpy().tolist() == [2.0, 5.0]
    assert wrapped(examples=batch([3.0]))["doubled"].numpy().tolist() == [6.0]
    assert fallbacks == []
    assert wrapped.structured_input_signature == plain.structured_input_signature  # what TFMA reads of it


def test_only_a_single_keyword_input_is_named():
    assert signature_calls.single_keyword_input(lambda x: x) is None
    spec = tf.TensorSpec([None], tf.string)

    class Loaded:
        def __init__(self, structured):
            self.structured_input_signature = structured

    assert signature_calls.single_keyword_input(Loaded(((), {"examples": spec}))) == "examples"
    assert signature_calls.single_keyword_input(Loaded(((), {"a": spec, "b": spec}))) is None
    assert signature_calls.single_keyword_input(Loaded(((spec,), {}))) is None
