import { DEMO_USERS, type DemoUser } from './schema';

interface UserSwitcherProps {
  current: DemoUser;
  onChange: (user: DemoUser) => void;
}

/** Picks who the page acts as; every user has role 'user'. */
export function UserSwitcher({ current, onChange }: UserSwitcherProps) {
  return (
    <div className="user-switcher" role="group" aria-label="Signed in as" data-testid="user-switcher">
      <span className="user-switcher-label">Signed in as</span>
      {DEMO_USERS.map((user) => (
        <button
          key={user}
          type="button"
          className={user === current ? 'user-option selected' : 'user-option'}
          aria-pressed={user === current}
          data-testid={`user-${user}`}
          onClick={() => onChange(user)}
        >
          <span className={`avatar avatar-${user}`} aria-hidden="true">
            {user.slice(0, 1).toUpperCase()}
          </span>
          {user}
        </button>
      ))}
    </div>
  );
}
