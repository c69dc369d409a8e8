"""The driver of ImageFolderExampleGen: the input fingerprint TFX's cache keys on.

TFX's file-based driver fingerprints the files one glob matches, by size and
mtime. The folder scan reads class folders at any depth, so this driver
fingerprints exactly the files the scan reads (folder_fingerprint), and an
added, removed, renamed or rewritten image is never missed by the cache. In a
data dir of spans it reads the window's spans alone (the execution properties
span and window_spans): a new span moves the fingerprint, a file added to a span
outside the window does not. A golden folder (setting golden_dir) is fingerprinted the same way.
"""
from __future__ import annotations

from tfx.components.example_gen import driver, utils
from tfx.types import standard_component_specs

from components.ingestion.folder_scan import folder_fingerprint, scan_image_folder
from components.ingestion.golden_set import golden_fingerprint
from components.ingestion.settings import IngestionSettings


class ImageFolderDriver(driver.FileBasedDriver):
    def resolve_exec_properties(self, exec_properties, pipeline_info, component_info):
        exec_properties = super().resolve_exec_properties(exec_properties, pipeline_info, component_info)
        settings = IngestionSettings.from_exec_properties(exec_properties)
        scan = scan_image_folder(exec_properties[standard_component_specs.INPUT_BASE_KEY], settings.group_pattern,
                                 window_spans=settings.window_spans, span=settings.span)
        fingerprint = folder_fingerprint(scan)
        if settings.golden_dir:
            fingerprint += " " + golden_fingerprint(settings.golden_dir, settings.group_pattern)
        exec_properties[utils.FINGERPRINT_PROPERTY_NAME] = fingerprint
        return exec_properties
