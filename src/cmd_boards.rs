//! `mcusim boards`: list and show board files.

use crate::Outcome;
use crate::cli::{BoardsArgs, BoardsCommand};
use anyhow::Result;
use mcusim_boards::Board;
use std::fmt::Write as _;

pub fn run(args: &BoardsArgs) -> Result<Outcome> {
    match &args.command {
        None | Some(BoardsCommand::List) => {
            let mut text = format!(
                "{:<18} {:<14} {:>9}  description\n",
                "name", "core", "clock"
            );
            for name in Board::builtin_names() {
                let board = Board::resolve(name)?;
                let _ = writeln!(
                    text,
                    "{:<18} {:<14} {:>5} MHz  {}",
                    board.name,
                    board.core.name(),
                    board.clock_hz() / 1_000_000,
                    board.file.description
                );
            }
            crate::out::stdout(&text)?;
        }
        Some(BoardsCommand::Show { name }) => {
            let board = Board::resolve(name)?;
            crate::out::stdout(&board.text)?;
        }
    }
    Ok(Outcome::Success)
}
