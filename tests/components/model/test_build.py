"""components/model/build.py: the transfer model's shape, what is frozen, and fine-tuning."""
import numpy as np
import pytest
import tf_keras as keras
from tf_keras import layers

from components.model.build import (PROBABILITIES, build_feature_extractor, build_transfer_model, drop_spare_bases,
                                    extractor_of, unfreeze_top_blocks)
from components.model.settings import TrainerSettings


@pytest.fixture(scope="module")
def model():
    return build_transfer_model(TrainerSettings(), weights=None, num_classes=3)


def test_inception_is_cut_at_mixed7_and_topped_by_the_dense_head_over_n_classes(model):
    extractor = model.layers[1]
    assert extractor.name == "inception_v3_to_mixed7"
    assert tuple(extractor.output_shape[1:]) == (7, 7, 768)
    head = [(type(layer).__name__, getattr(layer, "units", None)) for layer in model.layers[2:]]
    assert head == [("Flatten", None), ("Dense", 1024), ("Dropout", None), ("Dense", 3)]
    assert model.layers[-1].name == PROBABILITIES
    assert model.layers[-1].activation.__name__ == "softmax"
    assert model.layers[-2].rate == pytest.approx(0.2)
    assert model.input_shape == (None, 150, 150, 3)


def test_the_output_is_a_probability_vector_over_the_classes(model):
    images = np.random.default_rng(0).uniform(-1, 1, size=(4, 150, 150, 3)).astype("float32")

    probabilities = model.predict(images, verbose=0)

    assert probabilities.shape == (4, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_two_classes_take_the_same_path_as_any_other_number():
    binary = build_transfer_model(TrainerSettings(head_units=8), weights=None, num_classes=2)

    assert binary.output_shape == (None, 2)
    assert binary.layers[-1].activation.__name__ == "softmax"
    assert binary.loss == "sparse_categorical_crossentropy"


def test_a_single_class_is_refused():
    with pytest.raises(ValueError, match="at least 2 classes"):
        build_transfer_model(TrainerSettings(head_units=8), weights=None, num_classes=1)


def test_head_knobs_come_from_the_settings():
    small = build_transfer_model(TrainerSettings(head_units=64, dropout=0.5), weights=None, num_classes=4)

    assert [layer.units for layer in small.layers if isinstance(layer, layers.Dense)] == [64, 4]
    assert small.layers[-2].rate == pytest.approx(0.5)


def test_only_the_head_trains_by_default(model):
    trainable = {weight.name.split("/")[0] for weight in model.trainable_weights}
    assert trainable == {layer.name for layer in model.layers if isinstance(layer, layers.Dense)}
    assert model.optimizer.get_config()["name"] == "RMSprop"
    assert model.optimizer.get_config()["learning_rate"] == pytest.approx(1e-4)
    assert model.loss == "sparse_categorical_crossentropy"


def test_fine_tuning_unfreezes_only_the_top_blocks_below_the_cut_and_never_batch_norm():
    model = build_transfer_model(TrainerSettings(head_units=8), weights=None, num_classes=2)
    extractor = model.layers[1]
    names = [layer.name for layer in extractor.layers]

    unfrozen = unfreeze_top_blocks(model, "mixed7", blocks=2)

    first_open = names.index("mixed5") + 1
    for index, layer in enumerate(extractor.layers):
        if isinstance(layer, layers.BatchNormalization) or index < first_open:
            assert not layer.trainable, layer.name
    open_convs = [l for l in extractor.layers[first_open:] if isinstance(l, layers.Conv2D)]
    assert open_convs and all(layer.trainable for layer in open_convs)
    assert unfrozen == len(open_convs)


def test_an_unknown_cut_layer_names_the_valid_ones():
    with pytest.raises(ValueError, match="mixed7"):
        build_transfer_model(TrainerSettings(cut_layer="mixed99"), weights=None, num_classes=2)


def test_the_input_size_follows_the_transformed_images_and_the_head_widens_with_the_cut():
    larger = build_transfer_model(TrainerSettings(head_units=8), weights=None, num_classes=3, input_shape=(224, 224, 3))

    assert larger.input_shape == (None, 224, 224, 3)
    assert tuple(larger.layers[1].output_shape[1:]) == (12, 12, 768)  # mixed7 at 224 px
    assert larger.layers[3].kernel.shape == (12 * 12 * 768, 8)  # Flatten keeps where each feature is
    probabilities = larger.predict(np.zeros((2, 224, 224, 3), "float32"), verbose=0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


SMALL = TrainerSettings(cut_layer="mixed0", head_units=4, image_size=75, seed=3)
SMALL_SHAPE = (75, 75, 3)


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory):
    """Weights as resolve_weights gives them: a .h5 of InceptionV3 without its top, here random and small."""
    path = str(tmp_path_factory.mktemp("weights") / "inception_v3.h5")
    keras.applications.InceptionV3(include_top=False, weights=None, input_shape=SMALL_SHAPE).save_weights(path)
    return path


def test_a_base_only_run_is_handed_to_the_next_build_once_and_the_head_starts_the_same(weights_file):
    drop_spare_bases()
    built_here = build_transfer_model(SMALL, weights_file, 2, SMALL_SHAPE)
    spare = build_feature_extractor(weights_file, SMALL.cut_layer, SMALL_SHAPE, keep_spare=True)
    assert spare is not extractor_of(built_here)  # nothing was kept by the Trainer's build

    handed = build_transfer_model(SMALL, weights_file, 2, SMALL_SHAPE)
    again = build_transfer_model(SMALL, weights_file, 2, SMALL_SHAPE)

    assert extractor_of(handed) is spare and extractor_of(again) is not spare  # taken once, then gone
    assert not spare.trainable and not handed.layers[1].trainable_weights
    for fresh, taken in zip(built_here.weights, handed.weights):  # the base's (the file's) and the head's
        np.testing.assert_array_equal(fresh.numpy(), taken.numpy(), err_msg=fresh.name)
    images = np.random.default_rng(0).uniform(-1, 1, size=(2,) + SMALL_SHAPE).astype("float32")
    np.testing.assert_allclose(handed.predict(images, verbose=0), built_here.predict(images, verbose=0), rtol=1e-5)


def test_no_spare_is_taken_for_other_weights_another_cut_or_a_random_base(weights_file, tmp_path):
    drop_spare_bases()
    other = str(tmp_path / "other.h5")  # the same values in another file: another key
    keras.applications.InceptionV3(include_top=False, weights=None, input_shape=SMALL_SHAPE).save_weights(other)
    spare = build_feature_extractor(weights_file, SMALL.cut_layer, SMALL_SHAPE, keep_spare=True)

    assert build_feature_extractor(other, SMALL.cut_layer, SMALL_SHAPE) is not spare
    assert build_feature_extractor(weights_file, "mixed1", SMALL_SHAPE) is not spare
    assert build_feature_extractor(None, SMALL.cut_layer, SMALL_SHAPE, keep_spare=True) is not spare
    assert build_feature_extractor(None, SMALL.cut_layer, SMALL_SHAPE) is not spare  # random bases are never kept
    assert build_feature_extractor(weights_file, SMALL.cut_layer, SMALL_SHAPE, keep_spare=True) is spare  # still kept
    drop_spare_bases()
    assert build_feature_extractor(weights_file, SMALL.cut_layer, SMALL_SHAPE) is not spare
