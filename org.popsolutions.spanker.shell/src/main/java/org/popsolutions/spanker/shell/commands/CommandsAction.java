package org.popsolutions.spanker.shell.commands;

import java.util.Comparator;
import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.table.ShellTable;
import org.popsolutions.spanker.api.console.ConsoleCommand;

/**
 * {@code spanker:commands}: every spanker command with its description.
 *
 * <p>It is also what makes {@code help spanker} work. Karaf lists a scope's commands under {@code help <scope>}
 * only when the scope's Action commands come from one bundle; the other spanker commands are published as
 * plain shell commands (ShellCommandPublisher), so this one Action, declared through the bundle's
 * {@code Karaf-Commands} header, is the scope's anchor.
 */
@Service
@Command(scope = ConsoleCommand.SCOPE, name = "commands", description = "Every spanker command with its description")
public final class CommandsAction implements Action {
    @Reference
    Session session;

    @Override
    public Object execute() {
        ShellTable table = new ShellTable();
        table.column("Command");
        table.column("Description");
        session.getRegistry().getCommands().stream()
                .filter(command -> ConsoleCommand.SCOPE.equals(command.getScope()))
                .sorted(Comparator.comparing(org.apache.karaf.shell.api.console.Command::getName))
                .forEach(command -> table.addRow().addContent(ConsoleCommand.SCOPE + ":" + command.getName(),
                        command.getDescription()));
        table.print(System.out);
        return null;
    }
}
