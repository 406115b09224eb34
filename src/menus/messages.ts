// The engine's own words (hints, paging, system screens) in English and Swahili. A menu in other
// languages gives them in its file (`messages:`); missing ones fall back to English.
type L = { en: string; sw: string };

export const MSG = {
  opt: { en: 'Invalid choice, try again.', sw: 'Chaguo si sahihi, jaribu tena.' },
  more: { en: 'More', sw: 'Zaidi' },
  back: { en: 'Back', sw: 'Rudi' },
  amount_format: { en: 'Enter the amount in numbers, e.g. 100.', sw: 'Weka kiasi kwa tarakimu, mf. 100.' },
  amount_range: { en: 'Amount must be KES {min} to {max}.', sw: 'Kiasi lazima kiwe KES {min} hadi {max}.' },
  amount_whole: { en: 'Enter whole shillings, no cents, e.g. 100.', sw: 'Weka shilingi kamili, bila senti, mf. 100.' },
  phone: { en: 'Invalid phone number. Use 07XXXXXXXX.', sw: 'Nambari ya simu si sahihi. Tumia 07XXXXXXXX.' },
  pin: { en: 'PIN must be 4 digits.', sw: 'PIN lazima iwe tarakimu 4.' },
  digits: { en: 'Enter {min} to {max} digits.', sw: 'Weka tarakimu {min} hadi {max}.' },
  text: { en: 'Invalid entry, try again.', sw: 'Uliyoweka si sahihi, jaribu tena.' },
  pattern: { en: 'Invalid entry, check and try again.', sw: 'Uliyoweka si sahihi, angalia ujaribu tena.' },
  equals: { en: 'The entries do not match.', sw: 'Ulizoweka hazilingani.' },
  resume: {
    en: 'You have an unfinished session.\n1 Continue where you left off\n2 Start again',
    sw: 'Una huduma ambayo haijakamilika.\n1 Endelea ulipoachia\n2 Anza upya',
  },
  unavailable: { en: 'Service temporarily unavailable, please try again.', sw: 'Huduma haipatikani kwa sasa, tafadhali jaribu tena.' },
  processing: { en: 'We are processing your request. You will receive an SMS.', sw: 'Tunashughulikia ombi lako. Utapokea SMS.' },
  ended: { en: 'This session has ended. Please dial again.', sw: 'Kipindi hiki kimekwisha. Tafadhali piga tena.' },
  try_again: { en: 'Please try again.', sw: 'Tafadhali jaribu tena.' },
  still_busy: {
    en: 'Your previous request is still being handled. Please dial again shortly.',
    sw: 'Ombi lako la awali bado linashughulikiwa. Tafadhali piga tena baadaye kidogo.',
  },
  incomplete: { en: 'Your request was not completed. Please dial again.', sw: 'Ombi lako halikukamilika. Tafadhali piga tena.' },
  foreign: { en: 'This session is not available. Please dial again.', sw: 'Kipindi hiki hakipatikani. Tafadhali piga tena.' },
  country: { en: 'Sorry, this service is not available for numbers from your country.', sw: 'Samahani, huduma hii haipatikani kwa nambari za nchi yako.' },
  kenya_only: { en: 'This service is only for Kenyan (+254) numbers.', sw: 'Huduma hii ni kwa nambari za Kenya (+254) pekee.' },
  unknown_code: {
    en: 'This service code is not in use. Please check the code and dial again.',
    sw: 'Msimbo huu hautumiki. Tafadhali angalia msimbo na upige tena.',
  },
} satisfies Record<string, L>;

export type MsgKey = keyof typeof MSG;

/** The table a compiled menu carries: every key, in each of the menu's languages. */
export type Messages = Record<MsgKey, Record<string, string>>;

/** The engine's words for a menu's languages, the file's own (`messages:`) first. */
export function messagesFor(langs: readonly string[], own: Partial<Record<MsgKey, Record<string, string | undefined>>> = {}): Messages {
  const out = {} as Messages;
  for (const key of Object.keys(MSG) as MsgKey[]) {
    const base = MSG[key] as Record<string, string>;
    const row: Record<string, string> = {};
    for (const l of langs) row[l] = own[key]?.[l] ?? base[l] ?? base.en!;
    out[key] = row;
  }
  return out;
}

/** One of the engine's words in `lang` for a menu (English when neither has it). */
export function msg(menu: { messages: Messages } | undefined, key: MsgKey, lang: string): string {
  return menu?.messages[key][lang] ?? (MSG[key] as Record<string, string>)[lang] ?? MSG[key].en;
}

/** Longest hint an options screen may show (reserved when paging), over the menu's languages. */
export function optHintMax(menu: { messages: Messages }): number {
  let n = 0;
  for (const t of Object.values(menu.messages.opt)) n = Math.max(n, t.length);
  return n;
}
