"""TFX executor of the image-folder ExampleGen (Beam based).

The folder is scanned (cheap) and split by subject before Beam starts; Beam
then decodes every image (on a few threads in each worker), keeps the good ones as tf.Examples and
records a reason for each rejected one. Nothing good is dropped: rejected
files are listed in the artifact's rejected_files.csv and in the run summary.

When the Beam args run Beam in this process (small data: pipeline/process/beam_mode.py), the same
decoding and the same writer run without a Beam pipeline, one split file each, in the order Beam
in-process writes them: the same files byte for byte (tests/components/ingestion/test_executor.py), in
1.5 s where the Beam pipeline took 3.3 s (horse-or-human, 915 images; its stages cost 2 s on top of the
decoding).
"""
from __future__ import annotations

import collections
import concurrent.futures
import glob
import json
import os
from typing import Any, Dict, Iterator, List

import apache_beam as beam
from apache_beam.utils.windowed_value import WindowedValue
from absl import logging
from tfx.components.example_gen import base_example_gen_executor, utils as example_gen_utils, write_split
from tfx.components.util import examples_utils
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import proto_utils

from components import constants
from components.beam_runs import runs_in_this_process
from components.ingestion.folder_scan import DATA_SET_DOCUMENTATION, scan_image_folder
from components.ingestion.golden_set import read_golden_set
from components.ingestion.group_split import require_every_class_in_eval, split_groups, stable_rank
from components.ingestion.image_decoding import build_example, decode_candidate
from components.ingestion.report import build_report, write_report
from components.ingestion.settings import IngestionSettings
from components.ingestion.tfrecord_sink import SplitFileWriter, WriteSplit, compression_level

_OUTCOMES_FILE = "_decode_outcomes"


def _in_stable_random_order(candidates, seed: str):
    """The images in an order that mixes the classes and is the same every run. Beam in-process writes
    the examples in the order they are listed, and the scan lists them class by class: a Trainer
    shuffling through a bounded buffer would then start every epoch on one class."""
    return sorted(candidates, key=lambda c: stable_rank(seed, c.relative_path))


def _decode(item, max_pixels: int) -> dict:
    split, candidate = item
    encoded, note = decode_candidate(candidate, max_pixels)
    return {
        # A golden image by its full path: its relative one is relative to the golden dir, not the data dir.
        "file": candidate.path if split == constants.GOLDEN_SPLIT else candidate.relative_path,
        "class_name": candidate.class_name,
        "group": candidate.group,
        "grouped": candidate.grouped,
        "source_kind": candidate.source_kind,
        "span": candidate.span,
        "split": split,
        "accepted": encoded is not None,
        "note": note,
        "example": build_example(candidate, encoded) if encoded is not None else None,
    }


# Images decoded at once in each Beam worker: TensorFlow's decoder, most of ingestion's time, runs free
# of the GIL, so an in-process run (one Beam thread) uses the machine's other cores too (915 PNGs on
# 2 cores: 2.1 s one at a time, 1.2 s on two threads).
DECODE_THREADS = min(4, os.cpu_count() or 1)


class _DecodeInOrder(beam.DoFn):
    """_decode on DECODE_THREADS threads, its outcomes in the order of its input: Beam in-process writes
    the examples in that order, and the same data must give the same files every run."""

    def __init__(self, max_pixels: int):
        self._max_pixels = max_pixels
        self._pool = None
        self._pending = collections.deque()

    def setup(self):
        self._pool = concurrent.futures.ThreadPoolExecutor(DECODE_THREADS, thread_name_prefix="decode")

    def start_bundle(self):
        self._pending = collections.deque()

    def process(self, item, window=beam.DoFn.WindowParam, timestamp=beam.DoFn.TimestampParam):
        self._pending.append((self._pool.submit(_decode, item, self._max_pixels), timestamp, window))
        while len(self._pending) > 2 * DECODE_THREADS:  # a few images ahead, never the whole data set
            yield self._next()

    def finish_bundle(self):
        while self._pending:
            yield self._next()

    def teardown(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def _next(self) -> WindowedValue:
        future, timestamp, window = self._pending.popleft()
        return WindowedValue(future.result(), timestamp, [window])


def _decoded_in_order(listed, max_pixels: int) -> Iterator[dict]:
    """_decode of each listed item on DECODE_THREADS threads, the outcomes in the order listed, a few images
    ahead (as _DecodeInOrder, without Beam)."""
    pending = collections.deque()
    with concurrent.futures.ThreadPoolExecutor(DECODE_THREADS, thread_name_prefix="decode") as pool:
        try:
            for item in listed:
                pending.append(pool.submit(_decode, item, max_pixels))
                while len(pending) > 2 * DECODE_THREADS:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:  # stopped early (an error, Ctrl-C): no image is decoded for nothing
            for future in pending:
                future.cancel()


class ImageFolderExecutor(base_example_gen_executor.BaseExampleGenExecutor):
    """Reads DATA_DIR/<class>/<image> into train/eval tf.Example splits."""

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
        raise NotImplementedError("ImageFolderExecutor overrides GenerateExamplesByBeam")

    def GenerateExamplesByBeam(self, pipeline: beam.Pipeline, exec_properties: Dict[str, Any]):
        listed, split_names, max_pixels = self._list_images(exec_properties)
        outcomes = (
            pipeline
            | "ListImages" >> beam.Create(listed, reshuffle=True)
            | "DecodeImages" >> beam.ParDo(_DecodeInOrder(max_pixels))
        )
        _ = (
            outcomes
            | "OutcomeToJson" >> beam.Map(lambda o: json.dumps({k: v for k, v in o.items() if k != "example"}))
            | "WriteOutcomes" >> beam.io.WriteToText(self._outcomes_prefix, num_shards=1)
        )
        return {
            split: (
                outcomes
                | f"Keep[{split}]" >> beam.Filter(lambda o, s: o["accepted"] and o["split"] == s, split)
                | f"Serialize[{split}]" >> beam.Map(lambda o: o["example"])
            )
            for split in split_names
        }

    def _list_images(self, exec_properties: Dict[str, Any]):
        """(the (split, candidate) pairs to decode, in the order they are written; every split's name; the
        settings' max_image_pixels): the folder scanned and split, what was found printed."""
        settings = IngestionSettings.from_exec_properties(exec_properties)
        data_dir = exec_properties[standard_component_specs.INPUT_BASE_KEY]
        scan = scan_image_folder(data_dir, settings.group_pattern, groups_span_classes=settings.groups_span_classes,
                                 window_spans=settings.window_spans, span=settings.span)
        split_of = split_groups(scan.candidates, settings.eval_fraction, settings.split_seed,
                                settings.stratify_by_source_kind, settings.folds, settings.eval_fold)
        require_every_class_in_eval(scan.candidates, split_of, settings.eval_fraction, data_dir)  # also on Kubeflow
        golden = read_golden_set(settings.golden_dir, scan, settings.group_pattern,
                                 settings.groups_span_classes) if settings.golden_dir else None
        self._scan, self._golden = scan, golden
        # print, not logging: the user sees it whatever the log level (like the Trainer's epochs).
        print(
            f"ImageFolderExampleGen: decoding {len(scan.candidates)} images in {len(scan.class_names)} classes "
            f"({', '.join(scan.class_names)}) from {data_dir}"
            + (f" (spans {', '.join(scan.spans)})" if scan.spans else "")
            + f"; {len(scan.rejected)} files rejected before decoding",
            flush=True,
        )
        if golden:
            print(f"ImageFolderExampleGen: golden set: {len(golden.candidates)} images from {settings.golden_dir}, "
                  "none of them in the training data", flush=True)
        for warning in scan.warnings + (golden.warnings if golden else []):
            logging.warning(warning)
        listed = [(split_of[c.group], c) for c in _in_stable_random_order(scan.candidates, settings.split_seed)]
        listed += [(constants.GOLDEN_SPLIT, c) for c in (golden.candidates if golden else [])]
        split_names = sorted(set(split_of.values()) | {"train", "eval"} | ({constants.GOLDEN_SPLIT} if golden else set()))
        return listed, split_names, settings.max_image_pixels

    def _write_in_process(self, outputs, exec_properties) -> List[dict]:
        """What the Beam pipeline of _generate_and_write does, in this process: each listed image decoded,
        the accepted ones written to their split's file in the order listed; returns every outcome."""
        listed, split_names, max_pixels = self._list_images(exec_properties)
        level = self._compression_level()
        writers = {split: SplitFileWriter(artifact_utils.get_split_uri(outputs, split), level) for split in split_names}
        outcomes = []
        try:
            for outcome in _decoded_in_order(listed, max_pixels):
                example = outcome.pop("example")
                if outcome["accepted"]:
                    writers[outcome["split"]].write(example)
                outcomes.append(json.loads(json.dumps(outcome)))  # as the Beam path reads them back
        except BaseException:
            for writer in writers.values():
                writer.discard()
            raise
        for writer in writers.values():
            writer.close()
        return outcomes

    def _compression_level(self) -> int:
        candidates = self._scan.candidates + (self._golden.candidates if self._golden else [])
        return compression_level(candidate.path for candidate in candidates)

    def _generate_and_write(self, output_dict, exec_properties) -> List[dict]:
        """TFX's BaseExampleGenExecutor.Do (tfx/components/example_gen/base_example_gen_executor.py), with
        each split written at the gzip level its images suit (tfrecord_sink.py) instead of level 6, without
        a Beam pipeline when Beam would run in this process. Returns every image's outcome."""
        input_config = example_gen_pb2.Input()
        proto_utils.json_to_proto(exec_properties[standard_component_specs.INPUT_CONFIG_KEY], input_config)
        output_config = example_gen_pb2.Output()
        proto_utils.json_to_proto(exec_properties[standard_component_specs.OUTPUT_CONFIG_KEY], output_config)
        outputs = output_dict[standard_component_specs.EXAMPLES_KEY]
        artifact_utils.get_single_instance(outputs).split_names = artifact_utils.encode_split_names(
            example_gen_utils.generate_output_split_names(input_config, output_config))
        if runs_in_this_process(self._beam_pipeline_args):
            outcomes = self._write_in_process(outputs, exec_properties)
        else:
            with self._make_beam_pipeline() as pipeline:
                splits = self.GenerateExamplesByBeam(pipeline, exec_properties)
                level = self._compression_level()
                for split_name, examples in splits.items():
                    _ = examples | f"WriteSplit[{split_name}]" >> WriteSplit(
                        artifact_utils.get_split_uri(outputs, split_name), level)
            outcomes = []
            for path in glob.glob(self._outcomes_prefix + "*"):
                with open(path) as handle:
                    outcomes.extend(json.loads(line) for line in handle if line.strip())
                os.remove(path)
        # What TFX's Do records after writing; this executor's format is TFX's default, gzipped TFRecords.
        for artifact in outputs:
            if exec_properties.get(standard_component_specs.OUTPUT_DATA_FORMAT_KEY):
                examples_utils.set_payload_format(artifact, exec_properties[standard_component_specs.OUTPUT_DATA_FORMAT_KEY])
            file_format = exec_properties.get(standard_component_specs.OUTPUT_FILE_FORMAT_KEY)
            if file_format:
                examples_utils.set_file_format(artifact, write_split.to_file_format_str(file_format))
        return outcomes

    def Do(self, input_dict, output_dict, exec_properties) -> None:
        examples = artifact_utils.get_single_instance(output_dict[standard_component_specs.EXAMPLES_KEY])
        self._outcomes_prefix = os.path.join(examples.uri, _OUTCOMES_FILE)
        self._log_startup(input_dict, output_dict, exec_properties)
        outcomes = self._generate_and_write(output_dict, exec_properties)
        report = build_report(self._scan, outcomes, self._golden)
        write_report(report, examples.uri)
        examples.set_json_value_custom_property("class_names", report["class_names"])
        if report["spans"]:
            # What the Pusher records as the spans a model was trained on.
            examples.set_json_value_custom_property(constants.SPAN_WINDOW_PROPERTY, report["spans"]["window"])
        examples.set_int_custom_property("rejected_files", len(report["rejected"]))
        for row in report["rejected"]:
            # A README or LICENSE beside the class folders is expected, not a problem: listed, not warned about.
            log = logging.info if row["reason"] == DATA_SET_DOCUMENTATION else logging.warning
            log("rejected %s: %s", os.path.join(report["data_dir"], row["file"]), row["reason"])
        print(
            f"ImageFolderExampleGen: {report['total_examples']} images read {json.dumps(report['counts'])}, "
            f"{len(report['converted'])} re-encoded, {len(report['rejected'])} files rejected "
            f"(listed in {os.path.join(examples.uri, 'rejected_files.csv')})",
            flush=True,
        )
