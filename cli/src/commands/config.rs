//! `syncdb config path | show | check [FILE]`: where the config is, what is
//! in effect, and whether a file is valid (errors name the line).

use std::path::PathBuf;

use syncdb_core::config::Config;

use super::Ctx;
use crate::args::ConfigCommand;
use crate::exit::{CliError, Result};
use crate::output;

pub fn run(ctx: &Ctx, cmd: ConfigCommand) -> Result<()> {
    let path = ctx.paths.config_file();
    match cmd {
        ConfigCommand::Path => {
            if ctx.global.json {
                return output::json(&serde_json::json!({ "path": path, "exists": path.exists() }));
            }
            output::line(path.display())
        }
        ConfigCommand::Show => {
            let config = Config::load(&path)
                .map_err(|e| CliError::usage(e.to_string()))?
                .masked();
            if ctx.global.json {
                return output::json(&config);
            }
            let text = toml::to_string_pretty(&config).expect("config serializes");
            output::line(format!(
                "# effective config ({}; absent keys are defaults)\n{}",
                path.display(),
                text.trim_end()
            ))
        }
        ConfigCommand::Check { file } => {
            let file: PathBuf = file.unwrap_or(path);
            let text = std::fs::read_to_string(&file)
                .map_err(|e| CliError::usage(format!("cannot read {}: {e}", file.display())))?;
            Config::parse(&text, &file).map_err(|e| CliError::usage(e.to_string()))?;
            if ctx.global.json {
                return output::json(&serde_json::json!({ "path": file, "valid": true }));
            }
            output::line(format!("{}: valid", file.display()))
        }
    }
}
