// Package tabular reads and writes table files — CSV and XLSX — for the
// contact importer and exporter.
//
// Reading is built for messy files from marketing teams: the encoding,
// the delimiter and the format are detected, broken rows are reported one
// by one without stopping the import, and memory does not grow with the
// size of the file. Writing streams rows, so an export of millions of rows
// needs no more memory than one of ten.
//
// # What the importer must know
//
// Detection. The format comes from the content (a zip archive is XLSX),
// then from the name's extension; images, PDFs and old .xls workbooks are
// refused with ErrNotTable. The CSV delimiter is the one among , ; tab and |
// that splits the first 20 records into the most consistent number of
// fields (counting only delimiters outside quotes); Excel's "sep=;" first
// line is honoured and skipped. Info reports what was detected, so the
// importer can show it and let the user override it through Options.
//
// Header. Header returns the first non-blank row, trimmed of surrounding
// whitespace, with any byte order mark or NUL removed. A file with a header
// and no data is valid: Next returns io.EOF at once.
//
// Blank rows. A row whose cells are all empty — an empty line, a line of
// spaces, a line of delimiters only such as ";;;", an XLSX row with no value
// — is skipped and never returned. Row.Line still gives the true position of
// every returned row, so line numbers in error messages match what the user
// sees in a text editor (CSV) or in the spreadsheet's row headings (XLSX).
//
// Trimming. Unquoted CSV fields are trimmed of surrounding whitespace,
// because that whitespace is formatting around the delimiters ("a, b").
// Quoted CSV fields and XLSX cells are returned exactly as stored. Line
// breaks inside quoted fields are returned as "\n" whatever the file used.
//
// Ragged rows. Rows are returned with the cells they have: fewer or more
// than the header. Trailing empty XLSX cells (formatting without a value)
// are dropped; trailing empty CSV fields ("a,b,,") are kept.
//
// Broken rows. A row that cannot be read is returned by Next as a
// *RowError, and the next call to Next goes on with the following row, so
// an import records the error and keeps every other row:
//
//   - A quote inside an unquoted field (5" screen) is an ordinary character.
//   - A stray quote inside a quoted field ("he said "hi" ok") is kept as a
//     character when the field still closes on the same line; if it does not,
//     the line is a RowError (ErrStrayQuote).
//   - A quoted field that is never closed would otherwise swallow the rest of
//     the file. A quoted field may span lines, but when it reaches the end of
//     the file, grows past 4 MiB, or meets on a later line a quote that can
//     neither close it nor be a doubled quote, the reader gives up on it: the
//     row where the field started is a RowError (ErrUnterminatedQuote) and
//     reading resumes on the line after that row's first line, so the rows
//     that followed are read again, with their own line numbers.
//   - A line longer than 4 MiB is a RowError (ErrLineTooLong).
//   - An XLSX cell that points to a missing shared string or lies beyond
//     column XFD is a RowError for its row.
//
// Encodings. CSV files are read as UTF-8 (with or without a byte order
// mark), UTF-16 (with a byte order mark, or without one when the first KiB
// is clearly UTF-16) or Windows-1252. Unless Options.Encoding forces an
// encoding, a line of a UTF-8 or Windows-1252 file is read as UTF-8 when it
// is valid UTF-8 and as Windows-1252 otherwise, so a file that mixes the
// two (two exports pasted together) still reads right; Info.Encoding
// reports what the first 64 KiB looked like. A forced encoding is used for
// every line (invalid UTF-8 then becomes U+FFFD).
//
// XLSX values. Shared, inline and formula strings are returned as text,
// booleans as "TRUE" or "FALSE", errors as their text ("#N/A"). Numbers are
// written in plain decimal with at most 15 significant digits, as Excel
// shows them ("0.3", "1234567890123", "0.001"). Numbers with a date or time
// format become ISO 8601 text: "2006-01-02", "2006-01-02T15:04:05" or
// "15:04:05"; a time-of-day format on a value that also carries a date gives
// the full date and time rather than losing the date; an elapsed-time format
// such as [h]:mm gives the total hours ("36:00:00"). The fictitious
// 1900-02-29 of the 1900 date system (serial 60) reads as 1900-02-28.
// Percentages and other number formats give the stored number.
//
// # Writing
//
// NewCSVWriter writes RFC 4180 CSV. It writes cells as they are: a cell
// that starts with "=", "+", "-" or "@" is a formula to a spreadsheet that
// opens the CSV file, so an exporter of untrusted data may prefer XLSX.
// NewXLSXWriter writes a one-sheet workbook: texts are inline strings,
// which Excel never evaluates as formulas; it compresses for speed rather
// than size. See XLSXWriter for Excel's limits and how they are handled.
package tabular
