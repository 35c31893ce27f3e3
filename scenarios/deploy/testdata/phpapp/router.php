<?php
// A small web application in the regify appliance's style, for proving that
// regify-verify judges an application that is not its fake provider. Plain
// PHP for php's built-in server, one process per node:
//
//   PHP_CLI_SERVER_WORKERS=4 php -d session.save_path=DIR \
//       -d session.use_strict_mode=1 -d session.cookie_httponly=1 \
//       -S 127.0.8.11:8001 router.php
//
// Sessions are PHP's own (files in session.save_path), so they live on ONE
// node: a request that a balancer sends to the other node is logged out.
//
//   GET  /login       the login form: login, passwd and a hidden CSRF token
//                     (_token) kept in the session this request creates
//   POST /login       right password and token: a new session id, the user in
//                     the session, 302 to /mail/inbox; otherwise 403 and the
//                     form again
//   GET  /mail/inbox  logged in: 200 "Inbox" and the user, and a new session
//                     id on every answer (the old one is destroyed) — the
//                     rotation that defeats cookie persistence on a balancer;
//                     logged out: 302 to /login
//   GET  /logout      destroys the session, 302 to /login
//   GET  /health      200 "ok", no session (the balancer's health check)
//
// Environment:
//   APP_NODE       this node's name (default: the host name)
//   APP_SEND_NODE  1: name the node in an X-Node response header (default
//                  0: the balancer names the backend instead)
//   APP_PASSWORD   the password every login must give (default s3cret)
//   APP_ROTATE     0: do NOT rotate the session id on authenticated answers
//                  (a broken variant; default 1)

session_name('APPSESSION');

$node = getenv('APP_NODE') ?: gethostname();
if (getenv('APP_SEND_NODE') === '1') {
    header('X-Node: ' . $node);
}
$password = getenv('APP_PASSWORD');
if ($password === false || $password === '') {
    $password = 's3cret';
}
$rotate = getenv('APP_ROTATE') !== '0';

// Behind TLS offloading the browser speaks https: mark the cookie Secure.
if (($_SERVER['HTTP_X_FORWARDED_PROTO'] ?? '') === 'https') {
    ini_set('session.cookie_secure', '1');
}

$method = $_SERVER['REQUEST_METHOD'];
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);

function h(string $s): string
{
    return htmlspecialchars($s, ENT_QUOTES | ENT_HTML5, 'UTF-8');
}

function redirect(string $to): void
{
    header('Location: ' . $to, true, 302);
    header('Content-Type: text/plain; charset=utf-8');
    echo "see $to\n";
}

function login_form(int $status, string $message = ''): void
{
    if (empty($_SESSION['_token'])) {
        $_SESSION['_token'] = bin2hex(random_bytes(16));
    }
    http_response_code($status);
    header('Content-Type: text/html; charset=utf-8');
    $token = h($_SESSION['_token']);
    $msg = $message === '' ? '' : '<p class="error">' . h($message) . "</p>\n";
    echo <<<HTML
<!DOCTYPE html>
<html><head><title>Sign in</title></head>
<body>
<h1>Sign in</h1>
$msg<form method="post" action="/login">
<input type="hidden" name="_token" value="$token">
<label>Login <input type="text" name="login"></label>
<label>Password <input type="password" name="passwd"></label>
<button type="submit">Sign in</button>
</form>
</body></html>

HTML;
}

switch ("$method $path") {
case 'GET /health':
case 'HEAD /health':
    header('Content-Type: text/plain');
    echo "ok\n";
    return true;

case 'GET /login':
    session_start();
    login_form(200);
    return true;

case 'POST /login':
    session_start();
    $token = $_SESSION['_token'] ?? '';
    $given = (string)($_POST['_token'] ?? '');
    if ($token === '' || !hash_equals($token, $given)) {
        login_form(403, 'Your form expired; please sign in again.');
        return true;
    }
    $login = trim((string)($_POST['login'] ?? ''));
    if ($login === '' || !hash_equals($password, (string)($_POST['passwd'] ?? ''))) {
        login_form(403, 'Wrong login or password.');
        return true;
    }
    session_regenerate_id(true);
    unset($_SESSION['_token']);
    $_SESSION['user'] = $login;
    $_SESSION['since'] = time();
    redirect('/mail/inbox');
    return true;

case 'GET /mail/inbox':
    session_start();
    if (empty($_SESSION['user'])) {
        redirect('/login');
        return true;
    }
    if ($rotate) {
        session_regenerate_id(true);
    }
    header('Content-Type: text/html; charset=utf-8');
    $user = h($_SESSION['user']);
    echo "<!DOCTYPE html>\n<html><head><title>Inbox</title></head>\n<body>\n<h1>Inbox</h1>\n<p class=\"user\">$user</p>\n<p>No new messages.</p>\n<a href=\"/logout\">Sign out</a>\n</body></html>\n";
    return true;

case 'GET /logout':
    session_start();
    $_SESSION = [];
    $p = session_get_cookie_params();
    setcookie(session_name(), '', ['expires' => time() - 3600, 'path' => $p['path'], 'domain' => $p['domain'],
        'secure' => $p['secure'], 'httponly' => $p['httponly'], 'samesite' => $p['samesite']]);
    session_destroy();
    redirect('/login');
    return true;
}

http_response_code(404);
header('Content-Type: text/plain');
echo "not found\n";
return true;
