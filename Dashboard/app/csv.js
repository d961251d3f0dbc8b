// CSV of a table exactly as shown: UTF-8 with a byte-order mark (so spreadsheet programs read Cyrillic),
// decimals kept as the API's strings, and text that a spreadsheet would run as a formula made inert.

function cell(value, numeric) {
  let text = String(value ?? '');
  if (!numeric && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** columns: [{title, numeric}], rows: arrays of values. */
export function toCSV(columns, rows) {
  const lines = [columns.map((c) => cell(c.title, false)), ...rows.map((r) => r.map((v, k) => cell(v, columns[k].numeric)))];
  return `\ufeff${lines.map((l) => l.join(',')).join('\r\n')}\r\n`;
}

export function download(filename, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
