// multipart/form-data bulk uploads (busboy): fields `message` and `confirmDuplicate`, and one file
// part with the numbers, streamed through the CSV reader while the rest of the form arrives.
// Whatever the form does wrong is a 400 with the reason, never a silently shortened upload:
// a second file, more fields than allowed, a message cut at the field size limit, a body that
// ends without its closing boundary or carries another boundary than the header names.
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import type { BulkIntake } from './bulk-intake.js';
import { csvRows } from './csv.js';
import { BulkError } from './errors.js';
import { decodeToUtf8, tooLarge } from './upload.js';
import { checkColumns, templateOf } from './template.js';

const FIELD_MAX_BYTES = 16 * 1024;
const MAX_FIELDS = 10;

export interface MultipartForm {
  message: unknown;
  confirmDuplicate: boolean;
  dryRun: boolean;
  sendAt: string | undefined;
}

export async function readMultipart(
  headers: Record<string, string | string[] | undefined>,
  body: Readable,
  intake: BulkIntake,
  maxBytes: number,
): Promise<MultipartForm> {
  let bb: busboy.Busboy;
  try {
    bb = busboy({
      headers: headers as busboy.BusboyConfig['headers'],
      limits: { files: 1, fields: MAX_FIELDS, fieldSize: FIELD_MAX_BYTES, fileSize: maxBytes },
    });
  } catch (err) {
    throw new BulkError('BAD_MULTIPART', `multipart upload cannot be read: ${(err as Error).message}`);
  }
  const form: MultipartForm = { message: undefined, confirmDuplicate: false, dryRun: false, sendAt: undefined };
  let work: Promise<void> | undefined;
  let problem: BulkError | undefined;
  const refuse = (e: BulkError) => {
    problem ??= e;
  };

  bb.on('field', (name, value, info) => {
    if (name === 'message') {
      if (info.valueTruncated) refuse(new BulkError('MESSAGE_TOO_LONG', `the message field is longer than ${FIELD_MAX_BYTES} bytes`));
      form.message = value;
    } else if (name === 'confirmDuplicate') form.confirmDuplicate = value === 'true' || value === '1';
    else if (name === 'dryRun') form.dryRun = value === 'true' || value === '1';
    else if (name === 'sendAt') form.sendAt = value;
  });
  bb.on('file', (_name, stream) => {
    stream.on('limit', () => refuse(tooLarge(maxBytes)));
    work = (async () => {
      // The part's own charset is not passed on by busboy: a byte order mark decides (see upload.ts).
      const decoded = decodeToUtf8(undefined);
      // busboy fails the file stream itself on a broken form: an unhandled 'error' would end
      // the process. The form's own error (below) is the answer.
      stream.on('error', (err) => decoded.destroy(err));
      stream.pipe(decoded);
      // Placeholders are filled per row: the message must be known before the file (forms
      // send fields in order; put `message` first).
      const template = typeof form.message === 'string' ? templateOf(form.message) : undefined;
      intake.setTemplate(template);
      if (form.dryRun) intake.setDryRun(); // the form said so before its file
      try {
        const rowsOf = template ? csvRows(decoded, { fields: true, onHeader: (h) => checkColumns(template, h) }) : csvRows(decoded);
        for await (const rows of rowsOf) await intake.addMany(rows);
      } finally {
        stream.resume(); // let busboy reach the end of the request whatever happened here
      }
    })();
    work.catch(() => undefined); // awaited below
  });
  bb.on('filesLimit', () => refuse(new BulkError('TOO_MANY_FILES', 'send one file per upload; this one had more')));
  bb.on('fieldsLimit', () => refuse(new BulkError('TOO_MANY_FIELDS', `at most ${MAX_FIELDS} form fields (message, confirmDuplicate, file)`)));
  bb.on('partsLimit', () => refuse(new BulkError('TOO_MANY_FIELDS', 'too many parts in the form')));

  const parsed = new Promise<void>((resolve, reject) => {
    bb.on('close', resolve);
    bb.on('error', (err: Error) => reject(new BulkError('BAD_MULTIPART', `multipart upload cannot be read: ${err.message}`)));
    body.on('error', reject);
  });
  body.pipe(bb);
  try {
    await parsed;
  } catch (err) {
    await work?.catch(() => undefined);
    throw err;
  }
  if (problem) {
    await work?.catch(() => undefined);
    throw problem;
  }
  if (!work) throw new BulkError('FILE_REQUIRED', 'multipart upload needs a file part with the numbers');
  await work;
  if (problem) throw problem;
  if (form.dryRun && !intake.isDryRun) throw new BulkError('BAD_DRY_RUN', 'the dryRun field must come before the file in the form');
  if (!intake.templated && typeof form.message === 'string' && templateOf(form.message)) {
    throw new BulkError('MESSAGE_AFTER_FILE', 'a message with {column} placeholders must come before the file in the form');
  }
  return form;
}
