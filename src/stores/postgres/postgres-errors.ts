/**
 * What a failure of PostgreSQL means to the store: a connection lost (the outcome of a commit in
 * flight is unknown), or a statement refused. Messages name the problem, never a password.
 */

/** True when the connection failed rather than the statement: no SQLSTATE, or one of the connection classes. */
export function isConnectionFailure(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code
  if (typeof code !== 'string') return true
  // 08: connection exception; 57P01-57P03: the server shut down or cannot connect now.
  return !/^[0-9A-Z]{5}$/.test(code) || code.startsWith('08') || code.startsWith('57P')
}

/** The problem in words, without the connection string (which may hold the password). */
export function describePostgresFailure(error: unknown): string {
  const message = (error as { message?: unknown })?.message
  const code = (error as { code?: unknown })?.code
  const text = typeof message === 'string' && message.length > 0 ? message : String(error)
  return redactUrls(typeof code === 'string' ? `${text} (${code})` : text)
}

/**
 * Every postgres:// URL in `text` with its secrets replaced: the password of its user part and the
 * password, sslpassword and sslkey parameters of its query (pg reads a password from either).
 */
export function redactUrls(text: string): string {
  return text.replace(/postgres(?:ql)?:\/\/[^\s'"]*/gi, (url) => {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      // Not parseable: hide everything between the scheme and the last '@' (a password may hold '@').
      return url.replace(/^(postgres(?:ql)?:\/\/)[^/?#]*@/i, '$1***@')
    }
    if (parsed.password !== '') parsed.password = '***'
    for (const secret of ['password', 'sslpassword', 'sslkey']) {
      if (parsed.searchParams.has(secret)) parsed.searchParams.set(secret, '***')
    }
    return parsed.toString().replace(/%2A%2A%2A/g, '***')
  })
}
