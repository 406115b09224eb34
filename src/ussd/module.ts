// STUB (issue 2): the USSD engine's routes (POST /ussd, POST /ussd/:channel).
import type { ServiceModule } from '../app-context.js';

export function ussdModule(): ServiceModule {
  return { name: 'ussd' };
}
