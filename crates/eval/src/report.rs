//! The files a run leaves behind: Markdown tables, curves, a contact sheet.

mod curves;
mod sheet;
mod table;

pub use curves::{write_curves, Series};
pub use sheet::{contact_sheet, SheetEntry};
pub use table::{markdown, styles_markdown, StyleSummary};
