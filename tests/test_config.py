from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from ragtune.config import (
    Config,
    ConfigError,
    has_range,
    load_config,
    parse_set_flags,
    render_toml,
)


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


def test_a_workspace_that_is_a_file_is_named(tmp_path: Path) -> None:
    """--workspace given a file (or a folder under one) ended in NotADirectoryError from the store's mkdir."""
    file = tmp_path / "notes.txt"
    file.write_text("not a workspace", encoding="utf-8")
    for workspace in (file, file / "sub" / "ws"):
        with pytest.raises(ConfigError, match=rf"{file} is a file, not a folder; give a folder") as info:
            load_config(overrides={"workspace": str(workspace)}, environ={})
        assert str(workspace) in str(info.value)
    assert (
        load_config(overrides={"workspace": str(tmp_path / "new" / "ws")}, environ={}).workspace_path.parent.name
        == "new"
    )


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


OUT_OF_RANGE = [
    ("serve.port", "99999", "it must be at most 65535"),
    ("serve.port", "-1", "it must be at least 1"),
    ("serve.port", "0", "it must be at least 1"),
    ("corpus.max_file_mb", "-1", "it must be greater than 0"),
    ("serve.max_upload_mb", "-5", "it must be greater than 0"),
    ("serve.max_upload_mb", "0", "it must be greater than 0"),
    ("retrieval.dense_weight", "nan", "it must be a finite number"),
    ("retrieval.bm25_weight", "inf", "it must be a finite number"),
    ("retrieval.dense_weight", "-0.5", "it must be at least 0"),
    ("retrieval.top_k", "0", "it must be at least 1"),
    ("retrieval.bm25_b", "1.5", "it must be at most 1"),
    ("tune.lora_dropout", "1", "it must be less than 1"),
    ("compare.learning_curve", "0.5,0", "it must be greater than 0"),
    ("compare.test_share", "1.0", "it must be less than 1"),
    ("generation.temperature", "-0.1", "it must be at least 0"),
]


def _toml_literal(value: str) -> str:
    if "," in value:
        return "[" + value + "]"
    return {"nan": "nan", "inf": "inf"}.get(value, value)


@pytest.mark.parametrize(("setting", "value", "message"), OUT_OF_RANGE)
def test_out_of_range_is_the_same_named_error_from_file_env_and_flags(
    tmp_path: Path, setting: str, value: str, message: str
) -> None:
    section, key = setting.split(".")
    (tmp_path / "project").mkdir()
    file = tmp_path / "project" / "ragtune.toml"  # not the working directory's: the env and flag runs read none
    file.write_text(f"[{section}]\n{key} = {_toml_literal(value)}\n")
    env_name = f"RAGTUNE_{section.upper()}__{key.upper()}"
    sources = {
        "ragtune.toml: setting": lambda: load_config(file, environ={}),
        "environment: setting": lambda: load_config(environ={env_name: value}),
        "command line: setting": lambda: load_config(overrides=parse_set_flags([f"{setting}={value}"]), environ={}),
    }
    for source, load in sources.items():
        with pytest.raises(ConfigError) as info:
            load()
        text = str(info.value)
        assert f"{source} '{setting}' is " in text and message in text, text
        assert "\n" not in text


def test_every_numeric_setting_declares_its_range() -> None:
    missing = []
    for part in dataclasses.fields(Config):
        name, section = part.name, typing.get_type_hints(Config)[part.name]
        if not dataclasses.is_dataclass(section):
            continue
        hints = typing.get_type_hints(section)
        for f in dataclasses.fields(section):
            if hints[f.name] in (int, float, list[int], list[float]) and not has_range(f):
                missing.append(f"{name}.{f.name}")
    assert not missing, f"numeric settings without a declared range: {missing}"


def test_bounds_themselves_are_accepted() -> None:
    config = load_config(
        overrides={"serve.port": "65535", "retrieval.dense_weight": "0", "rag.min_support": "-1", "tune.eval_share": 0},
        environ={"RAGTUNE_SERVE__QUEUE_SIZE": "1"},
    )
    assert (config.serve.port, config.retrieval.dense_weight, config.serve.queue_size) == (65535, 0.0, 1)


def test_cli_names_a_bad_port_in_one_line_before_loading_models(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAGTUNE_")}
    env["RAGTUNE_SERVE__PORT"] = "-1"
    src = Path(__file__).resolve().parents[1] / "src"
    env["PYTHONPATH"] = f"{src}{os.pathsep}{env.get('PYTHONPATH', '')}"
    done = subprocess.run(
        [sys.executable, "-m", "ragtune", "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0 and "Traceback" not in output
    assert "environment: setting 'serve.port' is -1; it must be at least 1" in " ".join(output.split())
