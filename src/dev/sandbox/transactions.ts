// The sandbox's money: float, transactions, ledger, SMS log, and how each accepted request reaches
// its final state, its IPN and its webhook events (docs/gateways.md, "IPN", "Webhook events").
// Checkouts can follow a scenario chosen by _faults (short payment, lying IPN, reversal).
import { randomInt } from 'node:crypto';
import type { Config } from '../../config.js';
import type { Logger } from '../../log.js';
import { maskPhone } from '../../log.js';
import type { Category, Intent } from './endpoints.js';
import type { CheckoutScenario } from './faults.js';
import type { IpnDispatcher } from './ipn.js';
import type { LedgerEntry, SmsEntry } from './types.js';
import type { Webhooks } from './webhooks.js';
import type { Body } from './wire.js';

export type TxnIntent = Extract<Intent, { kind: 'txn' }>;
/** QUEUED: taken with offline_mode, not processed yet (docs/gateways.md, "Offline mode"). */
export type TxnStatus = 'QUEUED' | 'Pending' | 'Success' | 'Failed' | 'Reversed';

export interface Txn {
  ref: string;
  reference?: string;
  endpoint: string;
  /** For a QUEUED transaction, a placeholder until its request is checked. */
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
  scenario: CheckoutScenario;
}

export const MSG_POSTED = 'Your request has been posted successfully!';
export const MSG_ACCEPTED = 'Request accepted for processing!';
export const MSG_QUEUED = 'Request queued: it will be processed as soon as possible.';
const MSG_DONE = 'Your request has been processed successfully.';
const MSG_REVERSED = 'The transaction has been reversed.';

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
  webhooks: Webhooks;
  /** Where IPNs go: the registered callback URL, or null (nothing sent). */
  callbackUrl(): string | null;
}

export class SandboxEngine {
  floatKes: number;
  ledger: LedgerEntry[] = [];
  sms: SmsEntry[] = [];
  private txns = new Map<string, Txn>();
  private byReference = new Map<string, string>();
  private timers = new Set<NodeJS.Timeout>();
  private seq = 0;

  constructor(private readonly deps: EngineDeps) {
    this.floatKes = deps.config.SANDBOX_FLOAT_KES;
  }

  newRef(): string {
    this.seq++;
    return `KYASBX${String(this.seq).padStart(6, '0')}${letters(3)}`;
  }

  /** By the reference the sandbox issued (merchant_reference / transactionRef) only. */
  byGatewayRef(ref: string): Txn | undefined {
    return this.txns.get(ref);
  }

  /** By the sandbox's reference or by the merchant's own metadata.reference. */
  find(refOrReference: string): Txn | undefined {
    return this.txns.get(refOrReference) ?? this.txns.get(this.byReference.get(refOrReference) ?? '');
  }

  private record(endpoint: string, body: Body, intent: TxnIntent, status: TxnStatus, scenario: CheckoutScenario): Txn {
    const ref = this.newRef();
    const md = body.metadata;
    const metadata = md && typeof md === 'object' && !Array.isArray(md) ? (md as Record<string, unknown>) : {};
    const reference = typeof metadata.reference === 'string' ? metadata.reference : undefined;
    const ledger: LedgerEntry = {
      ref,
      endpoint,
      body,
      status,
      at: new Date().toISOString(),
      ...(reference ? { reference } : {}),
    };
    const txn: Txn = {
      ref,
      endpoint,
      intent,
      metadata,
      status,
      ledger,
      createdAt: Date.now(),
      floatTaken: 0,
      scenario,
      status_code: status === 'Success' ? '0000' : '1100',
      message: status === 'QUEUED' ? MSG_QUEUED : status === 'Success' ? MSG_POSTED : MSG_ACCEPTED,
      details: {},
      ...(reference ? { reference } : {}),
    };
    this.txns.set(ref, txn);
    if (reference) this.byReference.set(reference, ref);
    this.ledger.push(ledger);
    return txn;
  }

  /**
   * Records a checked money/SMS request and starts it. Its IPN and events (a synchronous vend's
   * success, a checkout's checkout.initiated) are sent by afterAnswer, once the answer is out.
   */
  accept(endpoint: string, body: Body, intent: TxnIntent, scenario: CheckoutScenario = {}): Txn {
    const status: TxnStatus = intent.mode === 'sync' ? 'Success' : 'Pending';
    const txn = this.record(endpoint, body, intent, status, scenario);
    this.takeFloat(txn);
    this.begin(txn, false);
    return txn;
  }

  /** offline_mode: recorded as QUEUED, unchecked; the offline queue checks and starts it later. */
  enqueue(endpoint: string, body: Body, placeholder: TxnIntent): Txn {
    return this.record(endpoint, body, placeholder, 'QUEUED', {});
  }

  /** A queued request passed its checks: the float decides, then it runs like any other. */
  startQueued(txn: Txn, intent: TxnIntent, scenario: CheckoutScenario = {}): void {
    if (txn.status !== 'QUEUED') return;
    txn.intent = intent;
    txn.scenario = scenario;
    if (intent.usesFloat && intent.amount > this.floatKes) {
      // Rejection feedback is deferred to the callback in offline mode.
      this.complete(txn, 'Failed', '1107', 'Insufficient float balance.', {});
      return;
    }
    this.takeFloat(txn);
    if (intent.category === 'Checkout') this.emit('checkout.initiated', txn);
    this.begin(txn, true);
  }

  /** A queued request that failed its checks, or whose retries ran out while the service was down. */
  failQueued(txn: Txn, code: string, message: string): void {
    if (txn.status !== 'QUEUED') return;
    this.complete(txn, 'Failed', code, message, {});
  }

  /** After the HTTP answer to an accepted request has gone out. */
  afterAnswer(txn: Txn): void {
    if (txn.status === 'Success') this.notify(txn);
    else if (txn.intent.category === 'Checkout' && txn.status === 'Pending') this.emit('checkout.initiated', txn);
  }

  /** Synchronous vends complete here; async ones go Pending and finish after a delay. */
  private begin(txn: Txn, notify: boolean): void {
    if (txn.intent.mode === 'sync') {
      this.complete(txn, 'Success', '0000', MSG_DONE, this.successDetails(txn), notify);
      return;
    }
    txn.status = 'Pending';
    txn.status_code = '1100';
    this.later(this.deps.config.SANDBOX_CHECKOUT_DELAY_MS, () => this.settleAsync(txn));
  }

  private settleAsync(txn: Txn): void {
    const { config } = this.deps;
    if (txn.intent.mode === 'checkout') {
      // The documents have no codes for these outcomes: 5000 with a reason (docs/gateways.md, "The sandbox").
      if (txn.intent.payerPhone === config.SANDBOX_CANCEL_PHONE) {
        this.complete(txn, 'Failed', '5000', 'Request cancelled by user', { reason: 'CANCELLED_BY_USER' });
        return;
      }
      if (txn.intent.payerPhone === config.SANDBOX_NOFUNDS_PHONE) {
        this.complete(txn, 'Failed', '5000', 'Insufficient funds on M-PESA', { reason: 'INSUFFICIENT_FUNDS' });
        return;
      }
      if (txn.scenario.lyingIpn) {
        // A forged-looking success: the IPN says Success while the transaction stays Pending,
        // then fails. Only the status lookup tells the truth.
        this.sendIpn(txn, { ...this.ipnBody(txn), status: 'Success', status_code: '0000', message: MSG_DONE, details: this.successDetails(txn) });
        this.later(config.SANDBOX_CHECKOUT_DELAY_MS, () => this.complete(txn, 'Failed', '5000', 'Payment not completed', { reason: 'NOT_PAID' }));
        return;
      }
    }
    this.complete(txn, 'Success', '0000', MSG_DONE, this.successDetails(txn));
    const after = txn.scenario.reverseAfterMs;
    if (after !== undefined) this.later(after, () => this.reverse(txn));
  }

  private reverse(txn: Txn): void {
    if (txn.status !== 'Success') return;
    if (txn.scenario.reverseAs === 'Failed') {
      // A failure reported after the success (checkoutReversal with status "Failed").
      this.complete(txn, 'Failed', '5000', 'Payment failed after completion', { reason: 'FAILED_AFTER_SUCCESS' });
      return;
    }
    txn.status = 'Reversed';
    txn.status_code = '0000';
    txn.message = MSG_REVERSED;
    txn.ledger.final = 'Reversed';
    this.deps.logger.info({ ref: txn.ref, category: txn.intent.category }, 'sandbox transaction reversed');
    this.notify(txn);
  }

  private successDetails(txn: Txn): Record<string, unknown> {
    const { intent } = txn;
    switch (intent.category) {
      case 'Airtime':
        return { Telco_Reference: `R${letters(8)}` };
      case 'PinAirtime':
        // Sandbox assumption: the documents show no PIN airtime response details.
        return { Telco_Reference: `R${letters(8)}`, pin: digits(16), serial: digits(12) };
      case 'BillPayment':
        return intent.extra === 'token' ? { biller_Receipt: `WSA${digits(13)}`, token: digits(20) } : { biller_Receipt: `WSA${digits(13)}` };
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

  /** Final state, SMS log for SMS; IPN and events unless `notify` is false (afterAnswer sends them). */
  private complete(txn: Txn, status: 'Success' | 'Failed', code: string, message: string, details: Record<string, unknown>, notify = true): void {
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
    if (notify) this.notify(txn);
  }

  /** The IPN for the current state, then the webhook events it triggers. */
  private notify(txn: Txn): void {
    this.sendIpn(txn);
    const sms = txn.intent.category === 'SMS';
    const airtime = txn.intent.category === 'Airtime' || txn.intent.category === 'PinAirtime';
    if (txn.status === 'Success') {
      if (!sms) this.emit('payment.success', txn);
      if (airtime) this.emit('airtime.delivered', txn);
      if (sms) this.emit('sms.delivered', txn);
    } else if (txn.status === 'Failed') {
      this.emit('payment.failed', txn);
    } else if (txn.status === 'Reversed') {
      this.emit('payment.reversed', txn);
    }
  }

  private emit(event: Parameters<Webhooks['emit']>[0], txn: Txn): void {
    this.deps.webhooks.emit(event, this.ipnBody(txn));
  }

  private sendIpn(txn: Txn, body: Record<string, unknown> = this.ipnBody(txn)): void {
    const url = txn.intent.ipnUrl ?? this.deps.callbackUrl();
    if (!url) {
      this.deps.logger.warn({ ref: txn.ref }, 'sandbox ipn not sent: no callback URL registered');
      return;
    }
    this.deps.ipn.send(url, body);
  }

  /** KES the customer actually paid (a `checkoutPaid` fault), else the amount asked. */
  private amountText(txn: Txn): string {
    return txn.scenario.paidAmount ?? String(txn.intent.amount);
  }

  ipnBody(txn: Txn): Record<string, unknown> {
    return {
      category: txn.intent.category satisfies Category,
      source: txn.scenario.paidBy ?? txn.intent.source,
      destination: txn.intent.destination,
      MerchantID: this.deps.config.MERCHANT_ID,
      details: txn.details,
      status: txn.status,
      status_code: txn.status_code,
      message: txn.message,
      transactionDate: transactionDate(),
      transactionRef: txn.ref,
      Amount: this.amountText(txn),
      ...(txn.scenario.paidCurrency ? { currency: txn.scenario.paidCurrency } : {}),
      requestMetadata: txn.metadata,
    };
  }

  /** The transaction-status / verify `details` object. */
  statusDetails(txn: Txn): Record<string, unknown> {
    return {
      category: txn.intent.category,
      source: txn.scenario.paidBy ?? txn.intent.source,
      destination: txn.intent.destination,
      MerchantID: this.deps.config.MERCHANT_ID,
      details: txn.details,
      requestMetadata: txn.metadata,
      status: txn.status,
      status_code: txn.status_code,
      message: txn.message,
      transactionRef: txn.ref,
      transactionFee: '0', // sandbox assumption: no fees
      amount: this.amountText(txn),
      ...(txn.scenario.paidCurrency ? { currency: txn.scenario.paidCurrency } : {}),
    };
  }

  private takeFloat(txn: Txn): void {
    if (!txn.intent.usesFloat) return;
    this.floatKes -= txn.intent.amount;
    txn.floatTaken = txn.intent.amount;
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
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
