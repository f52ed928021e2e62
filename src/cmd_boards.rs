//! `mcusim boards`: list and show board files.

use crate::Outcome;
use crate::cli::{BoardsArgs, BoardsCommand};
use anyhow::Result;
use mcusim_boards::Board;

pub fn run(args: &BoardsArgs) -> Result<Outcome> {
    match &args.command {
        None | Some(BoardsCommand::List) => {
            println!("{:<18} {:<14} {:>9}  description", "name", "core", "clock");
            for name in Board::builtin_names() {
                let board = Board::resolve(name)?;
                println!(
                    "{:<18} {:<14} {:>5} MHz  {}",
                    board.name,
                    board.core.name(),
                    board.clock_hz() / 1_000_000,
                    board.file.description
                );
            }
        }
        Some(BoardsCommand::Show { name }) => {
            let board = Board::resolve(name)?;
            print!("{}", board.text);
        }
    }
    Ok(Outcome::Success)
}
