const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

export function formatCount(value) {
  return typeof value === 'number' ? integer.format(value) : '—';
}

/** A duration in the largest units that keep it readable: "850 ms", "12 s", "3 min 05 s", "2 h 03 min". */
export function formatDuration(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60)
    return seconds % 60 ? `${minutes} min ${String(seconds % 60).padStart(2, '0')} s` : `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48)
    return minutes % 60 ? `${hours} h ${String(minutes % 60).padStart(2, '0')} min` : `${hours} h`;
  return hours % 24 ? `${Math.floor(hours / 24)} d ${hours % 24} h` : `${Math.floor(hours / 24)} d`;
}

// A 24-hour clock: shorter in dense tables, and unambiguous to operators in any locale.
const timeOfDay = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});
const dayAndTime = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});
const fullDate = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'long' });

/** Today's times as a time of day, older ones with their date. */
export function formatTime(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '—';
  const today = new Date().toDateString() === date.toDateString();
  return today ? timeOfDay.format(date) : dayAndTime.format(date);
}

/** The full date, for a `title` or a `datetime`-bearing element's tooltip. */
export function formatFullTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : fullDate.format(date);
}

export function durationBetween(startIso, endIso, now = Date.now()) {
  if (!startIso) return undefined;
  const end = endIso ? new Date(endIso).getTime() : now;
  return end - new Date(startIso).getTime();
}

export function shortId(id) {
  return typeof id === 'string' && id.length > 12 ? id.slice(0, 8) : (id ?? '—');
}

/** A contact's display name: its names, else its email or company, else its HubSpot id. */
export function contactName(properties, hubspotId) {
  const known = properties ?? {};
  const name = [known.firstname, known.lastname].filter(Boolean).join(' ');
  return name || known.email || known.company || `Contact ${hubspotId}`;
}
