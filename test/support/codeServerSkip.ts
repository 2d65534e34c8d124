// Whether a real-VS-Code test can run: the code-server install, or why the
// test is skipped. With TUNELAB_REQUIRE_CODESERVER set (CI), a missing
// install fails the test instead of skipping it.

import { findCodeServer, type CodeServerInstall } from './codeServerProcess.ts';

export interface CodeServerForTest {
  /** node:test's `skip` option: the reason, or false when the test must run. */
  skip: string | false;
  /** The install; throws (failing the test) when it is missing but required. */
  installed(): CodeServerInstall;
}

export function codeServerForTest(): CodeServerForTest {
  const install = findCodeServer();
  const required = !!process.env.TUNELAB_REQUIRE_CODESERVER;
  return {
    skip:
      'missing' in install && !required
        ? `${install.missing}: run \`bash scripts/setup-codeserver.sh\` (set TUNELAB_REQUIRE_CODESERVER=1 to fail instead)`
        : false,
    installed() {
      if ('missing' in install)
        throw new Error(`TUNELAB_REQUIRE_CODESERVER is set but ${install.missing}`);
      return install;
    },
  };
}
