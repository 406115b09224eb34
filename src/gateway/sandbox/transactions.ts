// The sandbox's money: float, transactions, ledger, SMS log, the offline queue, and how each
// accepted request reaches its final state (and its IPN).
import { randomInt } from 'node:crypto';
import type { Config } from '../../config.js';
import type { Logger } from '../../log.js';
import { maskPhone } from '../../log.js';
import type { Category, Intent } from './endpoints.js';
import type { IpnDispatcher } from './ipn.js';
import type { LedgerEntry, SmsEntry } from './types.js';
import type { Body } from './wire.js';

export type TxnIntent = Extract<Intent, { kind: 'txn' }>;
export type TxnStatus = 'Queued' | 'Pending' | 'Success' | 'Failed' | 'Reversed';

export interface Txn {
  ref: string;
  reference?: string;
  endpoint: string;
  intent: TxnIntent;
  metadata: Record<string, unknown>;
  status: TxnStatus;
  status_code: string;
  message: string;
  details: Record<string, unknown>;
  ledger: LedgerEntry;
  createdAt: number;
  /** KES drawn from the float for this transaction (given back if it fails). */
  floatTaken: number;
}

export const MSG_POSTED = 'Your request has been posted successfully!';
export const MSG_ACCEPTED = 'Request accepted for processing!';
export const MSG_QUEUED = 'Request queued: it will be processed when the service is back.';
const MSG_DONE = 'Your request has been processed successfully.';

const digits = (n: number) => Array.from({ length: n }, () => String(randomInt(10))).join('');
const letters = (n: number) => Array.from({ length: n }, () => 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789'[randomInt(34)]).join('');

/** "2025-04-11 11:20AM" in Nairobi time (UTC+3, no DST), the IPN sample's format. */
export function transactionDate(ms = Date.now()): string {
  const d = new Date(ms + 3 * 3_600_000);
  const p = (n: number) => String(n).padStart(2, '0');
  const h = d.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(h12)}:${p(d.getUTCMinutes())}${h < 12 ? 'AM' : 'PM'}`;
}

export interface EngineDeps {
  config: Config;
  logger: Logger;
  ipn: IpnDispatcher;
  /** Where IPNs go: the registered callback URL, or null (nothing sent). */
  callbackUrl(): string | null;
}

export class SandboxEngine {
  floatKes: number;
  ledger: LedgerEntry[] = [];
  sms: SmsEntry[] = [];
  private txns = new Map<string, Txn>();
  private byReference = new Map<string, string>();
  private queued: Txn[] = [];
  private timers = new Set<NodeJS.Timeout>();
  private seq = 0;

  constructor(private readonly deps: EngineDeps) {
    this.floatKes = deps.config.SANDBOX_FLOAT_KES;
  }

  newRef(): string {
    this.seq++;
    return `KYASBX${String(this.seq).padStart(6, '0')}${letters(3)}`;
  }

  find(refOrReference: string): Txn | undefined {
    return this.txns.get(refOrReference) ?? this.txns.get(this.byReference.get(refOrReference) ?? '');
  }

  /** Records an accepted money/SMS request. `queued`: the sandbox is down (offline_mode). */
  accept(endpoint: string, body: Body, intent: TxnIntent, queued: boolean): Txn {
    const ref = this.newRef();
    const md = body.metadata;
    const metadata = md && typeof md === 'object' && !Array.isArray(md) ? (md as Record<string, unknown>) : {};
    const reference = typeof metadata.reference === 'string' ? metadata.reference : undefined;
    const status: TxnStatus = queued ? 'Queued' : intent.mode === 'sync' ? 'Success' : 'Pending';
    const ledger: LedgerEntry = {
      ref, endpoint, body, status, at: new Date().toISOString(), ...(reference ? { reference } : {}),
    };
    const txn: Txn = {
      ref, endpoint, intent, metadata, status, ledger, createdAt: Date.now(), floatTaken: 0,
      status_code: status === 'Success' ? '0000' : '1100',
      message: queued ? MSG_QUEUED : status === 'Success' ? MSG_POSTED : MSG_ACCEPTED,
      details: {},
      ...(reference ? { reference } : {}),
    };
    this.txns.set(ref, txn);
    if (reference) this.byReference.set(reference, ref);
    this.ledger.push(ledger);
    if (queued) {
      this.queued.push(txn);
    } else {
      this.takeFloat(txn);
      this.begin(txn);
    }
    return txn;
  }

  /** Synchronous vends complete here; async ones go Pending and finish after a delay. */
  private begin(txn: Txn): void {
    const { intent } = txn;
    if (intent.mode === 'sync') {
      this.complete(txn, 'Success', '0000', MSG_DONE, this.successDetails(txn), false);
      return;
    }
    txn.status = 'Pending';
    txn.status_code = '1100';
    this.later(this.deps.config.SANDBOX_CHECKOUT_DELAY_MS, () => this.settleAsync(txn));
  }

  private settleAsync(txn: Txn): void {
    const { config } = this.deps;
    if (txn.intent.mode === 'checkout') {
      // ASSUMED: the docs have no codes for these outcomes (KYANDA-WIRE.md): 5000 + a reason.
      if (txn.intent.payerPhone === config.SANDBOX_CANCEL_PHONE) {
        this.complete(txn, 'Failed', '5000', 'Request cancelled by user', { reason: 'CANCELLED_BY_USER' });
        return;
      }
      if (txn.intent.payerPhone === config.SANDBOX_NOFUNDS_PHONE) {
        this.complete(txn, 'Failed', '5000', 'Insufficient funds on M-PESA', { reason: 'INSUFFICIENT_FUNDS' });
        return;
      }
    }
    this.complete(txn, 'Success', '0000', MSG_DONE, this.successDetails(txn));
  }

  private successDetails(txn: Txn): Record<string, unknown> {
    const { intent } = txn;
    switch (intent.category) {
      case 'Airtime':
        return { Telco_Reference: `R${letters(8)}` };
      case 'PinAirtime':
        // ASSUMED shape: the docs show no PIN airtime response details.
        return { Telco_Reference: `R${letters(8)}`, pin: digits(16), serial: digits(12) };
      case 'BillPayment':
        return intent.extra === 'token'
          ? { biller_Receipt: `WSA${digits(13)}`, token: digits(20) }
          : { biller_Receipt: `WSA${digits(13)}` };
      case 'Checkout':
      case 'MobilePayout':
      case 'B2B':
        return { Telco_Reference: letters(10) };
      case 'BankPayout':
      case 'UPI':
        return { biller_Receipt: `BNK${digits(12)}` };
      case 'SMS':
        return { recipients: intent.sms?.recipients.length ?? 0 };
    }
  }

  /** Final state, SMS log for SMS, IPN (`sendIpn` false: the request handler sends it after responding). */
  private complete(txn: Txn, status: 'Success' | 'Failed', code: string, message: string, details: Record<string, unknown>, sendIpn = true): void {
    txn.status = status;
    txn.status_code = code;
    txn.message = message;
    txn.details = details;
    txn.ledger.final = status;
    if (status === 'Failed') {
      this.floatKes += txn.floatTaken;
      txn.floatTaken = 0;
    }
    if (status === 'Success' && txn.intent.sms) {
      this.sms.push({ ref: txn.ref, recipients: txn.intent.sms.recipients, message: txn.intent.sms.message, at: new Date().toISOString() });
    }
    this.deps.logger.info(
      { ref: txn.ref, category: txn.intent.category, status, status_code: code, to: maskPhone(txn.intent.payerPhone) || undefined },
      'sandbox transaction final',
    );
    if (sendIpn) this.sendIpn(txn);
  }

  sendIpn(txn: Txn): void {
    const url = txn.intent.ipnUrl ?? this.deps.callbackUrl();
    if (!url) {
      this.deps.logger.warn({ ref: txn.ref }, 'sandbox ipn not sent: no callback URL registered');
      return;
    }
    this.deps.ipn.send(url, this.ipnBody(txn));
  }

  ipnBody(txn: Txn): Record<string, unknown> {
    return {
      category: txn.intent.category satisfies Category,
      source: txn.intent.source,
      destination: txn.intent.destination,
      MerchantID: this.deps.config.MERCHANT_ID,
      details: txn.details,
      status: txn.status,
      status_code: txn.status_code,
      message: txn.message,
      transactionDate: transactionDate(),
      transactionRef: txn.ref,
      Amount: String(txn.intent.amount),
      requestMetadata: txn.metadata,
    };
  }

  /** The transaction-status / verify `details` object. */
  statusDetails(txn: Txn): Record<string, unknown> {
    return {
      category: txn.intent.category,
      source: txn.intent.source,
      destination: txn.intent.destination,
      MerchantID: this.deps.config.MERCHANT_ID,
      details: txn.details,
      requestMetadata: txn.metadata,
      status: txn.status,
      status_code: txn.status_code,
      message: txn.message,
      transactionRef: txn.ref,
      transactionFee: '0', // ASSUMED: the sandbox charges no fees
      amount: String(txn.intent.amount),
    };
  }

  /** Recovery from "down": queued requests are processed in arrival order. */
  drainQueue(): number {
    const q = this.queued;
    this.queued = [];
    for (const txn of q) {
      if (txn.intent.usesFloat && txn.intent.amount > this.floatKes) {
        // Rejection feedback is deferred via callback in offline mode (seed 002).
        this.complete(txn, 'Failed', '1107', 'Insufficient float balance.', {});
        continue;
      }
      this.takeFloat(txn);
      if (txn.intent.mode === 'sync') {
        this.complete(txn, 'Success', '0000', MSG_DONE, this.successDetails(txn));
      } else {
        this.begin(txn);
      }
    }
    return q.length;
  }

  private takeFloat(txn: Txn): void {
    if (!txn.intent.usesFloat) return;
    this.floatKes -= txn.intent.amount;
    txn.floatTaken = txn.intent.amount;
  }

  queuedCount(): number {
    return this.queued.length;
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  reset(): void {
    this.stop();
    this.floatKes = this.deps.config.SANDBOX_FLOAT_KES;
    this.ledger = [];
    this.sms = [];
    this.txns.clear();
    this.byReference.clear();
    this.queued = [];
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
