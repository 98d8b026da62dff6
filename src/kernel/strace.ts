// --strace: one line per syscall, like strace(1): name(arguments) = result or -1 ERRNAME.
import { ENAMETOOLONG, Errno } from '../abi/errno.js';
import type { SyscallEntry } from './syscall-table.js';
import type { Task } from './task.js';

const MAX_STRING = 32;

export function formatSyscallEnter(task: Task, entry: SyscallEntry | undefined, nr: number): string {
  const name = entry?.name ?? `syscall_${nr}`;
  const format = entry?.args ?? 'xxxxxx';
  const parts: string[] = [];
  for (let i = 0; i < format.length; i++) parts.push(formatArg(task, format[i]!, i));
  return `[pid ${task.id.tid}] ${name}(${parts.join(', ')})`;
}

export function formatSyscallExit(result: number | Errno): string {
  if (result instanceof Errno) return ` = -1 ${result.name}\n`;
  return result > 0xffff ? ` = 0x${result.toString(16)}\n` : ` = ${result}\n`;
}

function formatArg(task: Task, kind: string, i: number): string {
  const a = task.args;
  switch (kind) {
    case 'i': return String(a.int(i));
    case 'u': return String(a.uint(i));
    case 'z': return String(a.size(i));
    case 'l': return String(a.long(i));
    case 's': {
      const p = a.ptr(i);
      if (p === 0) return 'NULL';
      const s = task.mm.readString(p, 4096, ENAMETOOLONG);
      if (typeof s !== 'string') return `0x${p.toString(16)}`;
      return JSON.stringify(s.length > MAX_STRING ? s.slice(0, MAX_STRING) : s) + (s.length > MAX_STRING ? '...' : '');
    }
    default: {
      const p = a.ptr(i);
      return p === 0 ? '0' : `0x${p.toString(16)}`;
    }
  }
}
