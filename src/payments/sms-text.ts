// SMS texts sent when an order ends, in the subscriber's language. Plain GSM-7, short.
import { BILLER_NAME, formatToken, kes } from './catalog.js';
import { parsePhone } from '../lib/phone.js';
import type { Order } from './types.js';

export type Notice = 'receipt' | 'refunded' | 'cancelled' | 'failed' | 'underpaid';

function what(o: Order, lang: string): string {
  const to = o.recipient ? (parsePhone(o.recipient).ok ? (parsePhone(o.recipient) as { national: string }).national : o.recipient) : '';
  switch (o.kind) {
    case 'airtime':
      return lang === 'sw' ? `salio KES ${kes(o.amountMinor)} kwa ${to}` : `KES ${kes(o.amountMinor)} airtime for ${to}`;
    case 'bundle':
      return lang === 'sw' ? `${o.bundleName ?? o.productCode} kwa ${to}` : `${o.bundleName ?? o.productCode} for ${to}`;
    case 'bill':
      return lang === 'sw'
        ? `malipo ya KES ${kes(o.amountMinor)} kwa ${BILLER_NAME[o.biller!]} ${o.account}`
        : `KES ${kes(o.amountMinor)} payment to ${BILLER_NAME[o.biller!]} ${o.account}`;
    case 'merchant':
      return lang === 'sw' ? `malipo ya KES ${kes(o.amountMinor)} kwa ${o.merchant}` : `KES ${kes(o.amountMinor)} payment to ${o.merchant}`;
  }
}

export function noticeText(o: Order, notice: Notice): string {
  const sw = o.lang === 'sw';
  const w = what(o, o.lang);
  const extra = o.token
    ? sw
      ? ` Tokeni ${formatToken(o.token)}.`
      : ` Token ${formatToken(o.token)}.`
    : o.receipt
      ? sw
        ? ` Risiti ${o.receipt}.`
        : ` Receipt ${o.receipt}.`
      : '';
  switch (notice) {
    case 'receipt':
      return sw ? `Imefanikiwa: ${w}. Kumb ${o.id}.${extra}` : `Success: ${w}. Ref ${o.id}.${extra}`;
    case 'refunded': {
      const back = kes(o.refundMinor ?? o.paidMinor ?? o.amountMinor);
      return sw
        ? `Hatukuweza kukamilisha ${w}. KES ${back} zimerudishwa kwako. Kumb ${o.id}.`
        : `We could not complete ${w}. KES ${back} has been refunded to you. Ref ${o.id}.`;
    }
    case 'underpaid': {
      const paid = kes(o.paidMinor ?? 0);
      return sw
        ? `Ulilipa KES ${paid} badala ya KES ${kes(o.amountMinor)} kwa ${w}. Hatukuweza kukamilisha; KES ${paid} zitarudishwa kwako. Kumb ${o.id}.`
        : `You paid KES ${paid} instead of KES ${kes(o.amountMinor)} for ${w}, so it was not completed. KES ${paid} will be refunded to you. Ref ${o.id}.`;
    }
    case 'cancelled':
      return sw
        ? `Malipo ya ${w} hayakukamilika. Hakuna pesa iliyotolewa. Kumb ${o.id}.`
        : `Payment for ${w} was not completed. You were not charged. Ref ${o.id}.`;
    case 'failed':
      return sw ? `Samahani, ${w} haikufanikiwa. Kumb ${o.id}.` : `Sorry, ${w} failed. Ref ${o.id}.`;
  }
}
