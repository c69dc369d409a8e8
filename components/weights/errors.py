"""The one error type the weights package raises for foreseeable problems."""


class WeightsError(RuntimeError):
    """Pretrained weights cannot be read, fetched, verified or found.

    The message names the file involved and says what to do about it.
    """
