// Agent account actions of the menu: OTP by SMS for activation and reset, PIN set/change/reset.
// Each result is remembered under the step's idempotency key, so a re-run of the same step
// (the engine re-runs an action whose process died) answers the same without spending an OTP.
import type { AppContext } from '../app-context.js';
import type { ActionContext, ActionResult } from '../ussd/actions.js';
import { maskPhone } from '../log.js';
import { PIN_RE } from './pin.js';
import type { AgentStore } from './store.js';
import { keyNames } from '../keys.js';

const NO_OTP = { en: 'Codes cannot be sent right now. Try again later.', sw: 'Misimbo haiwezi kutumwa sasa. Jaribu tena baadaye.' };
const EXPIRED = { en: 'The code has expired or was used up. Start again.', sw: 'Msimbo umeisha muda au umetumika. Anza tena.' };
const BAD_PIN = { en: 'The PIN must be 4 digits.', sw: 'PIN lazima iwe tarakimu 4.' };
const TRY_AGAIN = { en: 'Please try again.', sw: 'Tafadhali jaribu tena.' };
const NOT_AGENT = { en: 'This phone is not a registered agent.', sw: 'Simu hii si ya wakala aliyesajiliwa.' };

const PURPOSE = { activate: 'agent-activate', reset: 'agent-reset' } as const;

/** What the agent actions use of the application context. */
type AgentActionsDeps = Pick<AppContext, 'key' | 'otp' | 'redis'>;

export function agentActions(app: AgentActionsDeps, agents: AgentStore) {
  const names = keyNames(app.key).agents;
  async function remember(ctx: ActionContext, fn: () => Promise<ActionResult>): Promise<ActionResult> {
    const key = names.actionResult(ctx.idempotencyKey);
    const prev = await app.redis.get(key);
    if (prev) return JSON.parse(prev) as ActionResult;
    const r = await fn();
    await app.redis.set(key, JSON.stringify(r), 'EX', 3600);
    return r;
  }

  async function otpSend(ctx: ActionContext): Promise<ActionResult> {
    return remember(ctx, async (): Promise<ActionResult> => {
      const purpose = ctx.params.purpose === 'reset' ? 'reset' : 'activate';
      const agent = await agents.get(ctx.phone);
      if (!agent || agent.blockedAt) return { outcome: 'not_agent' };
      if (purpose === 'activate' && agent.status === 'active') return { outcome: 'already_active' };
      if (purpose === 'reset' && agent.status !== 'active') return { outcome: 'not_active' };
      try {
        await app.otp.send(ctx.phone, PURPOSE[purpose], { internal: true });
      } catch (err) {
        ctx.logger.warn({ phone: maskPhone(ctx.phone), purpose, err: (err as Error).message }, 'agent OTP not sent');
        const retryAfter = (err as { retryAfterS?: number }).retryAfterS;
        return {
          outcome: 'failure',
          reason: retryAfter ? { en: `Try again in ${retryAfter} seconds.`, sw: `Jaribu tena baada ya sekunde ${retryAfter}.` } : NO_OTP,
        };
      }
      return { outcome: 'success' };
    });
  }

  function withOtp(purpose: keyof typeof PURPOSE) {
    return (ctx: ActionContext): Promise<ActionResult> =>
      remember(ctx, async (): Promise<ActionResult> => {
        const agent = await agents.get(ctx.phone);
        if (!agent || agent.blockedAt) return { outcome: 'failure', reason: NOT_AGENT };
        const pin = ctx.values.new_pin ?? '';
        if (!PIN_RE.test(pin) || pin !== (ctx.values.new_pin_confirm ?? pin)) return { outcome: 'failure', reason: BAD_PIN };
        const v = await app.otp.verify(ctx.phone, PURPOSE[purpose], ctx.values.otp ?? '', { internal: true });
        if (!v.valid) {
          const triesLeft = (v as { triesLeft?: number }).triesLeft;
          if (v.reason === 'wrong_code' && triesLeft !== 0) return { outcome: 'wrong_otp', vars: { tries_left: String(triesLeft ?? '') } };
          return { outcome: 'failure', reason: EXPIRED };
        }
        await agents.setPin(ctx.phone, pin);
        ctx.logger.info({ phone: maskPhone(ctx.phone), purpose }, purpose === 'activate' ? 'agent activated' : 'agent PIN reset');
        return { outcome: 'success' };
      });
  }

  async function pinChange(ctx: ActionContext): Promise<ActionResult> {
    return remember(ctx, async (): Promise<ActionResult> => {
      const pin = ctx.values.new_pin ?? '';
      if (!PIN_RE.test(pin) || pin !== (ctx.values.new_pin_confirm ?? pin)) return { outcome: 'failure', reason: BAD_PIN };
      const c = await agents.checkPin(ctx.phone, ctx.values.pin ?? '');
      if (!c.ok) {
        if (c.why === 'wrong_pin') return { outcome: 'wrong_pin', vars: { tries_left: String(c.triesLeft) } };
        if (c.why === 'locked') return { outcome: 'locked', vars: { minutes: String(c.minutes) } };
        return { outcome: c.why === 'not_active' ? 'not_active' : 'not_agent' };
      }
      await agents.setPin(ctx.phone, pin);
      ctx.logger.info({ phone: maskPhone(ctx.phone) }, 'agent PIN changed');
      return { outcome: 'success' };
    });
  }

  /**
   * Why an agent action said not_agent: the PIN check answers that for an agent who is
   * registered but has not activated yet, who must be told to activate, not that the service
   * is for registered agents. Reads only; `success` means the agent is active (by now).
   */
  async function agentStatus(ctx: ActionContext): Promise<ActionResult> {
    const agent = await agents.get(ctx.phone);
    // A blocked agent is told what a phone that is no agent is told: no reason on a handset.
    if (!agent || agent.blockedAt) return { outcome: 'not_agent' };
    if (agent.status !== 'active') return { outcome: 'not_active' };
    return { outcome: 'success', reason: TRY_AGAIN };
  }

  return {
    agent_status: agentStatus,
    agent_otp_send: otpSend,
    agent_activate: withOtp('activate'),
    agent_pin_reset: withOtp('reset'),
    agent_pin_change: pinChange,
  };
}
