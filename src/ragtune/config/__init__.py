"""Every setting of ragtune, typed and documented, in one place.

Precedence, lowest to highest: the defaults below < `ragtune.toml` < environment variables < CLI flags.

- A project file is `ragtune.toml` in the working directory (or `--config FILE` / `RAGTUNE_CONFIG`); `ragtune init`
  writes one with every setting and its help text as comments.
- An environment variable `RAGTUNE_<SECTION>__<FIELD>` overrides one setting, for example
  `RAGTUNE_RETRIEVAL__TOP_K=8`. `RAGTUNE_WORKSPACE` sets the workspace folder.
- A CLI flag is either a dedicated one (`--top-k 8`) or the generic `--set retrieval.top_k=8`.

Each section is a dataclass whose fields carry a `help` text, in the manner of PEFT's configs, so that the file
written by `ragtune init`, the errors and the docs all come from the same words.

The package: `fields` (how a setting is declared and checked), `sections` (the settings themselves) and `load`
(reading and writing them). Import from `ragtune.config`.
"""

from __future__ import annotations

from ragtune.config.fields import ConfigError, check_value, choices_of, has_range, setting
from ragtune.config.load import (
    CONFIG_FILENAME,
    ENV_PREFIX,
    apply_overrides,
    config_file,
    describe,
    env_overrides,
    load_config,
    parse_set_flags,
    render_toml,
)
from ragtune.config.sections import (
    AdvisorConfig,
    CompareConfig,
    Config,
    CorpusConfig,
    GenerationConfig,
    ModelsConfig,
    RagConfig,
    RetrievalConfig,
    ServeConfig,
    StoreConfig,
    SynthConfig,
    TuneConfig,
)

__all__ = [
    "CONFIG_FILENAME",
    "ENV_PREFIX",
    "AdvisorConfig",
    "CompareConfig",
    "Config",
    "ConfigError",
    "CorpusConfig",
    "GenerationConfig",
    "ModelsConfig",
    "RagConfig",
    "RetrievalConfig",
    "ServeConfig",
    "StoreConfig",
    "SynthConfig",
    "TuneConfig",
    "apply_overrides",
    "check_value",
    "choices_of",
    "config_file",
    "describe",
    "env_overrides",
    "has_range",
    "load_config",
    "parse_set_flags",
    "render_toml",
    "setting",
]
