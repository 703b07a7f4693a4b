package io.actortls.admin;

import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/** Pekko Management makes this from its class name ({@code pekko.management.http.routes.actortls}). */
public final class AdminRouteProvider implements ManagementRouteProvider {
    private final ExtendedActorSystem system;

    public AdminRouteProvider(ExtendedActorSystem system) {
        this.system = system;
    }

    @Override
    public Route routes(ManagementRouteProviderSettings settings) {
        var typed = Adapter.toTyped(system);
        return AdminRoutes.create(typed, AdminServices.get(typed).handles());
    }
}
