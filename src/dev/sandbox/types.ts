// Shapes shared by the Kyanda-family sandbox and the 5.7.3 (PAG) sandbox.

/** One accepted request, as GET /sandbox/_ledger lists it (docs/sandbox.md, "Test and demo routes"). */
export interface LedgerEntry {
  /** The sandbox's transaction reference. */
  ref: string;
  /** e.g. "airtime", "bill", "checkout", "mobile-payout", "pag/payment_c2b" */
  endpoint: string;
  /** The request body as received (signature included). */
  body: unknown;
  /** Status at acceptance: "Success", "Pending", "QUEUED" (offline_mode), or a PAG status number as string. */
  status: string;
  /** ISO time. */
  at: string;
  /** The merchant's own reference when it sent one (Kyanda metadata.reference, PAG order_id). */
  reference?: string;
  /** Kyanda sandbox: the final status once reached ("Success" | "Failed" | "Reversed"); `status` stays as accepted. */
  final?: string;
  /** Kyanda sandbox, offline_mode: ISO times the queued request was tried (first, then each retry). */
  attempts?: string[];
}

/** One SMS the sandbox was asked to send (GET /sandbox/_sms). */
export interface SmsEntry {
  ref: string;
  /** E.164 (+2547…). */
  recipients: string[];
  message: string;
  at: string;
}
