// Answer bodies of the PAG sandbox, shaped like the documented samples. result.code values are the
// sandbox's own (the documentation gives none): 0 OK, 1 signature mismatch, 2 unknown merchant,
// 3 missing or invalid parameter, 4 order not found, 5 unsupported provider or currency.
export const RESULT = { OK: 0, SIGNATURE: 1, MERCHANT: 2, PARAMETER: 3, NOT_FOUND: 4, UNSUPPORTED: 5 } as const;

export const SERVICE = { service_id: 1, service_version: '5.7.3-sandbox' };

/** "2020-11-25 10:08:32.832969", as the documentation prints it (UTC). */
export function serviceDateTime(d = new Date()): string {
  const iso = d.toISOString(); // 2020-11-25T10:08:32.832Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}000`;
}

export function errorReply(orderId: unknown, code: number, message: string): Record<string, unknown> {
  return {
    order_id: typeof orderId === 'string' ? orderId : '',
    transaction_id: '',
    transaction_ref: '',
    status: -1,
    result: { code, message },
    provider_result: { code: -8888, message: '' },
    ...SERVICE,
    service_date_time: serviceDateTime(),
  };
}
