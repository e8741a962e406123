from __future__ import annotations

from pathlib import Path

import pytest

from ragtune.config import Config, ConfigError, load_config, parse_set_flags, render_toml


def test_defaults_need_no_file(tmp_path: Path) -> None:
    config = load_config(environ={})
    assert config == Config()
    assert config.workspace_path == Path(".ragtune")


def test_file_then_env_then_flags(tmp_path: Path) -> None:
    file = tmp_path / "ragtune.toml"
    file.write_text('workspace = "ws"\n[retrieval]\ntop_k = 3\nmode = "bm25"\n[tune]\nepochs = 2\n')
    config = load_config(file, environ={})
    assert (config.workspace, config.retrieval.top_k, config.retrieval.mode, config.tune.epochs) == (
        "ws",
        3,
        "bm25",
        2.0,
    )

    env = {"RAGTUNE_RETRIEVAL__TOP_K": "7", "RAGTUNE_WORKSPACE": "from-env", "RAGTUNE_CORPUS__EXTENSIONS": ".md,.txt"}
    config = load_config(file, environ=env)
    assert (config.retrieval.top_k, config.workspace, config.corpus.extensions) == (7, "from-env", [".md", ".txt"])

    config = load_config(file, overrides={"retrieval.top_k": "9", "workspace": "flag"}, environ=env)
    assert (config.retrieval.top_k, config.workspace, config.retrieval.mode) == (9, "flag", "bm25")


def test_default_file_in_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / "ragtune.toml").write_text("[generation]\nmax_new_tokens = 12\n")
    assert load_config(environ={}).generation.max_new_tokens == 12


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[retrieval]\ntop_kk = 3\n", "unknown setting 'retrieval.top_kk'"),
        ("[retrival]\ntop_k = 3\n", "unknown section '[retrival]'"),
        ("[retrieval]\ntop_k = 'many'\n", "setting 'retrieval.top_k': expected int"),
        ("[retrieval\n", "not valid TOML"),
        ("[retrieval]\ntop_k = -3\n", "setting 'retrieval.top_k' is -3; it must be at least 1"),
        (
            "[retrieval]\nmode = 'fuzzy'\n",
            "setting 'retrieval.mode' is 'fuzzy'; choose one of 'dense', 'bm25', 'hybrid'",
        ),
    ],
)
def test_bad_file_names_file_and_setting(tmp_path: Path, text: str, message: str) -> None:
    file = tmp_path / "ragtune.toml"
    file.write_text(text)
    with pytest.raises(ConfigError, match="ragtune.toml") as info:
        load_config(file, environ={})
    assert message in str(info.value)


def test_file_encoding_a_byte_order_mark_is_fine_utf16_is_named(tmp_path: Path) -> None:
    file = tmp_path / "ragtune.toml"
    file.write_bytes(b"\xef\xbb\xbf[retrieval]\ntop_k = 8\n")  # UTF-8 with a BOM, as Notepad writes it
    assert load_config(file, environ={}).retrieval.top_k == 8
    file.write_bytes("[retrieval]\ntop_k = 8\n".encode("utf-16"))
    with pytest.raises(ConfigError, match=r"ragtune.toml: not UTF-8 text .*re-save it as UTF-8"):
        load_config(file, environ={})


def test_bad_env_and_flags_are_named() -> None:
    with pytest.raises(ConfigError, match="environment: setting 'tune.epochs'"):
        load_config(environ={"RAGTUNE_TUNE__EPOCHS": "lots"})
    with pytest.raises(ConfigError, match="command line: setting 'store.backend' is 'sqlite'; choose one of"):
        load_config(overrides={"store.backend": "sqlite"}, environ={})
    with pytest.raises(ConfigError, match="SECTION.FIELD=VALUE"):
        parse_set_flags(["retrieval.top_k"])
    with pytest.raises(ConfigError, match="explicit.toml: config file not found"):
        load_config("explicit.toml", environ={})


def test_rendered_file_documents_every_setting_and_round_trips(tmp_path: Path) -> None:
    text = render_toml()
    assert "# LoRA rank." in text and "lora_r = 16" in text
    file = tmp_path / "ragtune.toml"
    file.write_text(text)
    assert load_config(file, environ={}) == Config()
