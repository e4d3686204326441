// One measurement in a fresh Node process (bench/outbox and bench/search): the request as
// its argument, its stderr echoed with a label, the last line of its stdout the result.
import { spawn } from 'node:child_process';

export function runChild<T>(script: string, request: unknown, label: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, JSON.stringify(request)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      for (const line of chunk.split('\n').filter(Boolean)) process.stderr.write(`    [${label}] ${line}\n`);
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      const last = stdout.trim().split('\n').at(-1) ?? '';
      if (code === 0 && last.startsWith('{')) {
        resolve(JSON.parse(last) as T);
      } else {
        reject(new Error(`${script} exited with ${signal ?? code}${stderr ? `:\n${stderr.trim().split('\n').slice(-25).join('\n')}` : ''}`));
      }
    });
  });
}
