"""components/ingestion/data_licence.py: the licence line a data folder states about itself."""
from components.ingestion.data_licence import licence_note


def test_the_real_data_sets_readme_names_its_licence(horse_or_human_dir):
    note = licence_note(str(horse_or_human_dir))
    assert note.startswith("README.md: ") and "CC BY 2.0" in note


def test_a_licence_sentence_wrapped_over_lines_is_read_whole_and_licence_files_come_first(tmp_path):
    (tmp_path / "README.md").write_text("# Cats\n\nPhotos of cats.\nLicensed under\nCC0. Taken in 2020.\n")
    assert licence_note(str(tmp_path)) == "README.md: Licensed under CC0."
    (tmp_path / "LICENSE").write_text("Creative Commons Attribution 4.0 licence applies to every image.\n")
    assert licence_note(str(tmp_path)) == "LICENSE: Creative Commons Attribution 4.0 licence applies to every image."


def test_a_folder_that_states_no_licence_gives_none(tmp_path):
    (tmp_path / "README.md").write_text("Some pictures.\n")
    assert licence_note(str(tmp_path)) is None
