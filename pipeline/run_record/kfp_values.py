"""Values as KFP's launcher stores them in ML Metadata, and as the executor wrote them."""

# KFP's launcher stores a dict in ML Metadata as {"struct": {...}} and a list as {"list": [...]}
# (backend/src/v2/metadata/converter.go, StructValueToMLMDValue, KFP 2.3 to 2.17), and the next
# task's driver hands them on still wrapped (toRuntimeArtifact).
KFP_WRAPPERS = {"struct": dict, "list": list}


def unwrap_kfp_value(value):
    """A metadata value as the executor wrote it: {"struct": {...}} -> {...}, {"list": [...]} -> [...]."""
    if isinstance(value, dict) and len(value) == 1:
        (wrapper, inner), = value.items()
        if isinstance(inner, KFP_WRAPPERS.get(wrapper, ())):
            return inner
    return value


def unwrap_kfp_metadata(metadata: dict) -> dict:
    """An input artifact's metadata as the upstream executor wrote it: KFP's dict and list wrappers removed.

    Without this every JSON-valued custom property arrives wrapped: ExampleValidator's per-split
    `blessed` reads {"struct": {"train": 1.0, "eval": 1.0}}, which blesses no split.
    """
    return {key: unwrap_kfp_value(value) for key, value in metadata.items()}
